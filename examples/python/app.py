"""A small HTTP service from Python's standard library: JSON answers, a hit counter in SQLite."""
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# In memory: the image's file system is read-only to the unprivileged user this runs as.
db = sqlite3.connect(":memory:", check_same_thread=False)
db.execute("CREATE TABLE hits (path TEXT)")
lock = threading.Lock()


def hit(path: str) -> int:
    with lock:
        db.execute("INSERT INTO hits VALUES (?)", (path,))
        return db.execute("SELECT count(*) FROM hits").fetchone()[0]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path, "hits": hit(self.path), "sqlite": sqlite3.sqlite_version}).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("", 8000), Handler).serve_forever()
