#!/usr/bin/env python3
"""A loopback HTTP server for the fetch tests: serves a folder, answers Range requests with 206, and can break
off its first response after some bytes (a dropped connection), so resuming can be tested.

    range_server.py DIR [--cut-after BYTES] [--log FILE] [--no-ranges]

Prints "port N" once listening (port 0: the system picks). Each request is logged as "GET /name range=..." .
"""
import argparse
import http.server
import os
import re
import sys
import threading


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--cut-after", type=int, default=0)
    p.add_argument("--log")
    p.add_argument("--no-ranges", action="store_true")
    a = p.parse_args()
    cut_done = []
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            name = self.path.lstrip("/")
            rng = self.headers.get("Range")
            if a.log:
                with lock, open(a.log, "a") as f:
                    f.write(f"GET /{name} range={rng}\n")
            path = os.path.join(a.dir, name)
            if "/" in name or not os.path.isfile(path):
                self.send_error(404)
                return
            data = open(path, "rb").read()
            start = 0
            m = re.fullmatch(r"bytes=(\d+)-", rng or "")
            if m and not a.no_ranges:
                start = int(m.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with lock:
                cut = a.cut_after > 0 and not cut_done and len(body) > a.cut_after
                if cut:
                    cut_done.append(name)
            if cut:
                self.wfile.write(body[:a.cut_after])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
