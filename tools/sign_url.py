#!/usr/bin/env python3
"""Mints a signed Cascade play URL (README, "Access control").

  tools/sign_url.py --secret "$SECRET" --stream live/demo --ttl 3600 \
      [--ip 203.0.113.7] [--base http://host:8080/live/demo.m3u8]

Prints the query (expires=...[&ip=1]&sig=...), or the base URL with it
appended. The signature is the lowercase hex HMAC-SHA256 under the secret of
"cascade-play\n{app}/{stream}\n{expires}\n{ip or nothing}".
"""

import argparse
import hashlib
import hmac
import sys
import time


def sign_query(secret: str, stream: str, expires: int, ip: str = "") -> str:
    message = f"cascade-play\n{stream}\n{expires}\n{ip}".encode()
    sig = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"expires={expires}&ip=1&sig={sig}" if ip else f"expires={expires}&sig={sig}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True, help="[access] play_secret")
    parser.add_argument("--stream", required=True, help="app/stream, e.g. live/demo")
    expiry = parser.add_mutually_exclusive_group()
    expiry.add_argument("--ttl", type=int, default=3600, help="seconds from now (default 3600)")
    expiry.add_argument("--expires", type=int, help="absolute Unix time instead of --ttl")
    parser.add_argument("--ip", default="", help="bind to this client address (adds ip=1)")
    parser.add_argument("--base", default="", help="URL to append the query to")
    args = parser.parse_args()
    if "/" not in args.stream:
        parser.error("--stream must be app/stream")
    expires = args.expires if args.expires is not None else int(time.time()) + args.ttl
    query = sign_query(args.secret, args.stream, expires, args.ip)
    if args.base:
        print(args.base + ("&" if "?" in args.base else "?") + query)
    else:
        print(query)
    return 0


if __name__ == "__main__":
    sys.exit(main())
