"""nbgrader settings for a learner's server on the class hub (this folder is on its JUPYTER_CONFIG_PATH).

Learners fetch and submit through nbgrader's exchange; the folder is shared by the whole class.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = os.environ.get("APICOURSE_COURSE_ID", "working-with-apis")
c.Exchange.root = os.environ.get("APICOURSE_EXCHANGE", "/srv/nbgrader/exchange")
