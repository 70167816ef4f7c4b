"""boto3 against a firn server: run by TestBoto3 (tests/e2e/boto3_test.go).

Environment: FIRN_ENDPOINT (http:// or https://), FIRN_CA (the CA file for
https), FIRN_BUCKET, FIRN_WORK (a scratch directory), FIRN_EXPECT_TRAILER
(1 when botocore is expected to send the CRC32 in a trailer, as it does
over HTTPS), and the AWS_* credentials.

Prints one line per check; exits non-zero with the reason on the first
failure.
"""

import base64
import hashlib
import io
import os
import sys
import zlib

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MiB = 1 << 20


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def pseudo_random(n, seed):
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 32
    return bytes(out[:n])


endpoint = os.environ["FIRN_ENDPOINT"]
bucket = os.environ["FIRN_BUCKET"]
work = os.environ["FIRN_WORK"]
expect_trailer = os.environ.get("FIRN_EXPECT_TRAILER") == "1"
print("boto3 %s botocore %s, endpoint %s" % (boto3.__version__, botocore.__version__, endpoint), flush=True)

s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    verify=os.environ.get("FIRN_CA") or None,
    config=Config(
        s3={"addressing_style": "path"},
        # No retries: on loopback a request that needs one shows a server
        # problem, which a silent retry would hide; a short read timeout
        # turns a stalled response into a quick failure.
        retries={"mode": "standard", "total_max_attempts": 1},
        read_timeout=30,
        connect_timeout=5,
        # One connection, so that consecutive requests share it.
        max_pool_connections=1,
    ),
)

# Record how each PutObject / UploadPart body was sent.
sent = []


def header(request, name):
    v = request.headers.get(name, "")
    return v.decode() if isinstance(v, bytes) else v


def record(request, **kwargs):
    sent.append({n: header(request, n) for n in ("x-amz-content-sha256", "x-amz-trailer", "Content-Encoding")})


s3.meta.events.register("before-send.s3.PutObject", record)
s3.meta.events.register("before-send.s3.UploadPart", record)

s3.create_bucket(Bucket=bucket)
print("create_bucket ok", flush=True)

# put_object with a CRC32 checksum. Over HTTPS botocore sends the body
# aws-chunked with the checksum in a trailer
# (STREAMING-UNSIGNED-PAYLOAD-TRAILER); over HTTP in a header.
small = pseudo_random(300_000, "small")
r = s3.put_object(Bucket=bucket, Key="crc/small.bin", Body=small, ChecksumAlgorithm="CRC32")
check(r.get("ChecksumCRC32") == crc32_b64(small), "put_object ChecksumCRC32 %r, want %r" % (r.get("ChecksumCRC32"), crc32_b64(small)))
check(r["ETag"] == '"%s"' % hashlib.md5(small).hexdigest(), "put_object ETag %s, want the MD5" % r["ETag"])
last = sent[-1]
if expect_trailer:
    check(
        last["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER" and last["x-amz-trailer"].lower() == "x-amz-checksum-crc32",
        "put_object was not sent with a trailing checksum: %r" % last,
    )
print("put_object CRC32 ok (sent as %s, trailer %r)" % (last["x-amz-content-sha256"], last["x-amz-trailer"]), flush=True)

# A checksum that does not match is refused.
try:
    s3.put_object(Bucket=bucket, Key="crc/bad.bin", Body=b"some bytes", ChecksumCRC32=crc32_b64(b"other bytes"))
    fail("put_object with a wrong ChecksumCRC32 succeeded")
except botocore.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "BadDigest", "wrong checksum: got %s, want BadDigest" % e.response["Error"]["Code"])
print("put_object wrong CRC32 refused ok", flush=True)

# An empty file-like body goes with "Expect: 100-continue"; the next upload
# on the same connection must not stall (boto/botocore#3755).
r = s3.put_object(Bucket=bucket, Key="empty", Body=io.BytesIO(b""))
r = s3.put_object(Bucket=bucket, Key="after-empty", Body=io.BytesIO(b"not empty"))
check(r["ResponseMetadata"]["RetryAttempts"] == 0, "put_object after an empty one was retried")
print("empty body then non-empty on one connection ok", flush=True)

# upload_file of 20 MiB: multipart through s3transfer (8 MiB parts).
big_path = os.path.join(work, "big.bin")
big = pseudo_random(20 * MiB + 12345, "big")
with open(big_path, "wb") as f:
    f.write(big)
n_parts = len(sent)
s3.upload_file(big_path, bucket, "dir/big.bin", Config=TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=1))
check(len(sent) - n_parts == 3, "upload_file sent %d parts, want 3" % (len(sent) - n_parts))
print("upload_file 20 MiB ok", flush=True)

# get_object with ChecksumMode=ENABLED: botocore verifies a full-object
# checksum itself and fails on a mismatch.
r = s3.get_object(Bucket=bucket, Key="crc/small.bin", ChecksumMode="ENABLED")
body = r["Body"].read()
check(body == small, "get_object crc/small.bin: bytes differ")
check(r.get("ChecksumCRC32") == crc32_b64(small), "get_object ChecksumCRC32 %r, want %r" % (r.get("ChecksumCRC32"), crc32_b64(small)))
print("get_object crc/small.bin ChecksumMode=ENABLED ok", flush=True)

r = s3.get_object(Bucket=bucket, Key="dir/big.bin", ChecksumMode="ENABLED")
body = r["Body"].read()
check(body == big, "get_object dir/big.bin: bytes differ")
crc = r.get("ChecksumCRC32")
if crc is not None:
    # s3transfer asks for CRC32 by default: a full-object CRC32 (verified
    # by botocore on read) or a composite "checksum-of-checksums-N".
    if r.get("ChecksumType") == "FULL_OBJECT":
        check(crc == crc32_b64(big), "dir/big.bin full-object CRC32 %s, want %s" % (crc, crc32_b64(big)))
    else:
        check(crc.endswith("-3"), "dir/big.bin composite CRC32 %r, want one ending in -3" % crc)
print("get_object dir/big.bin ok (ChecksumCRC32 %s, type %s)" % (crc, r.get("ChecksumType")), flush=True)

r = s3.get_object(Bucket=bucket, Key="dir/big.bin", Range="bytes=%d-%d" % (8 * MiB - 10, 8 * MiB + 9))
check(r["Body"].read() == big[8 * MiB - 10 : 8 * MiB + 10], "ranged get_object across a part boundary: bytes differ")
check(r["ContentRange"] == "bytes %d-%d/%d" % (8 * MiB - 10, 8 * MiB + 9, len(big)), "ContentRange %s" % r["ContentRange"])
print("ranged get_object ok", flush=True)

# head_object.
h = s3.head_object(Bucket=bucket, Key="dir/big.bin")
check(h["ContentLength"] == len(big), "head_object ContentLength %d, want %d" % (h["ContentLength"], len(big)))
check(h["ETag"].endswith('-3"'), "head_object ETag %s, want a 3-part multipart ETag" % h["ETag"])
h = s3.head_object(Bucket=bucket, Key="crc/small.bin", ChecksumMode="ENABLED")
check(h["ContentLength"] == len(small) and h.get("ChecksumCRC32") == crc32_b64(small), "head_object crc/small.bin: %r" % h)
try:
    s3.head_object(Bucket=bucket, Key="missing")
    fail("head_object of a missing key succeeded")
except botocore.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "404", "head_object missing: %r" % e.response["Error"])
print("head_object ok", flush=True)

# list_objects_v2, paged.
want = {"crc/small.bin": len(small), "empty": 0, "after-empty": 9, "dir/big.bin": len(big)}
got = {}
pages = 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}):
    pages += 1
    for o in page.get("Contents", []):
        got[o["Key"]] = o["Size"]
check(got == want, "list_objects_v2: %r, want %r" % (got, want))
check(pages == 2, "list_objects_v2 with 2 keys a page: %d pages, want 2" % pages)
r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
check([p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["crc/", "dir/"], "list_objects_v2 delimiter: %r" % r.get("CommonPrefixes"))
print("list_objects_v2 ok", flush=True)

# delete_objects, with a key that does not exist (deleted all the same).
r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in list(want) + ["never-was"]]})
deleted = sorted(d["Key"] for d in r.get("Deleted", []))
check(deleted == sorted(list(want) + ["never-was"]), "delete_objects Deleted %r" % deleted)
check(not r.get("Errors"), "delete_objects Errors %r" % r.get("Errors"))
check(s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0, "bucket not empty after delete_objects")
s3.delete_bucket(Bucket=bucket)
print("delete_objects ok", flush=True)
print("ALL OK", flush=True)
