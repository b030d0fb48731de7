# Appended by repo2docker (--appendix) to the single-user image: the PostgreSQL driver the grader's server needs,
# at the version pinned in deploy/jupyterhub/requirements.txt (the one place it is pinned).
RUN grep '^psycopg' ${REPO_DIR}/deploy/jupyterhub/requirements.txt > /tmp/apicourse-db.txt && \
    ${NB_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r /tmp/apicourse-db.txt && rm /tmp/apicourse-db.txt
