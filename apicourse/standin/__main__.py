"""``python -m apicourse.standin [--port N] [--notebook NN_name]``: serve the stand-in in the foreground."""

from __future__ import annotations

import argparse

from apicourse.standin import create_app, free_port


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apicourse.standin", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--notebook", help="answer file consulted first, e.g. 05_openai (default: all)")
    args = parser.parse_args(argv)
    import uvicorn

    port = args.port or free_port()
    print(f"apicourse stand-in on http://127.0.0.1:{port}  (set APICOURSE_STANDIN_URL to this; Ctrl-C stops)")
    print(f"  e.g. curl -H 'authorization: Bearer sk-test' http://127.0.0.1:{port}/api.openai.com/v1/models")
    uvicorn.run(create_app(args.notebook), host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    main()
