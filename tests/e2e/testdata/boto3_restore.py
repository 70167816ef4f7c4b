"""boto3 restores against a firn server: run by TestBoto3Restore
(tests/e2e/boto3_restore_test.go).

The server must complete restores at once (--restore-latency
Expedited=0s,Standard=0s,Bulk=0s) and run with 24-hour model days.

Environment: FIRN_ENDPOINT, FIRN_BUCKET and the AWS_* credentials.

    python3 boto3_restore.py              run the checks
    python3 boto3_restore.py reset-policy set the data retrieval policy
                                          back to None (the test's cleanup)

Prints one line per check; exits non-zero with the reason on the first
failure. The data retrieval policy it sets is reset to None before it
exits, whether the checks pass or not.
"""

import datetime
import email.utils
import hashlib
import os
import re
import sys
import time

import boto3
import botocore
from botocore.config import Config

KiB = 1 << 10


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def pseudo_random(n, seed):
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 32
    return bytes(out[:n])


def status(resp):
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def client_error(fn, what, **kwargs):
    """Calls fn(**kwargs), which must fail with a ClientError; returns
    (error dict, HTTP status)."""
    try:
        r = fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response.get("Error", {}), e.response["ResponseMetadata"]["HTTPStatusCode"]
    fail("%s succeeded (HTTP %d), want an error: %r" % (what, status(r), {k: v for k, v in r.items() if k != "Body"}))


endpoint = os.environ["FIRN_ENDPOINT"]
cfg = Config(
    s3={"addressing_style": "path"},
    # No retries: on loopback a request that needs one shows a server
    # problem (and a retried RestoreObject would change what it answers).
    retries={"mode": "standard", "total_max_attempts": 1},
    read_timeout=30,
    connect_timeout=5,
)
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=cfg)
glacier = boto3.client("glacier", endpoint_url=endpoint, region_name="us-east-1", config=cfg)

NO_POLICY = {"Rules": [{"Strategy": "None"}]}

if sys.argv[1:] == ["reset-policy"]:
    glacier.set_data_retrieval_policy(accountId="-", Policy=NO_POLICY)
    print("data retrieval policy reset to None", flush=True)
    sys.exit(0)

bucket = os.environ["FIRN_BUCKET"]
print("boto3 %s botocore %s, endpoint %s" % (boto3.__version__, botocore.__version__, endpoint), flush=True)
s3.create_bucket(Bucket=bucket)

RESTORED = re.compile(r'^ongoing-request="false", expiry-date="([^"]+)"$')

# ---- a GLACIER object: refused, restored, served ----

cold = pseudo_random(300 * KiB + 17, "cold")
s3.put_object(Bucket=bucket, Key="cold.bin", Body=cold, StorageClass="GLACIER")
h = s3.head_object(Bucket=bucket, Key="cold.bin")
check(h.get("StorageClass") == "GLACIER", "head_object StorageClass %r, want GLACIER" % h.get("StorageClass"))
check("Restore" not in h, "head_object of a never restored object has Restore %r" % h.get("Restore"))
check(h["ContentLength"] == len(cold), "head_object ContentLength %d, want %d" % (h["ContentLength"], len(cold)))
print("put_object GLACIER, head_object ok", flush=True)

err, code = client_error(s3.get_object, "get_object of a GLACIER object", Bucket=bucket, Key="cold.bin")
check(err.get("Code") == "InvalidObjectState", "get_object of a GLACIER object: code %r, want InvalidObjectState (%r)" % (err.get("Code"), err))
check(code == 403, "get_object of a GLACIER object: HTTP %d, want 403" % code)
check(err.get("StorageClass") == "GLACIER", "get_object InvalidObjectState carries StorageClass %r, want GLACIER (%r)" % (err.get("StorageClass"), err))
print("get_object refused: %s %d StorageClass %s ok" % (err["Code"], code, err["StorageClass"]), flush=True)

req = {"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}}
r = s3.restore_object(Bucket=bucket, Key="cold.bin", RestoreRequest=req)
check(status(r) == 202, "restore_object: HTTP %d, want 202" % status(r))
print("restore_object Standard: 202 ok", flush=True)

# A second identical request: 409 RestoreAlreadyInProgress while the job
# runs, 200 (the copy's life extended) once it is done. The job may
# finish between the HEAD and the request, so the HEAD after tells a
# race from a wrong answer.
before = s3.head_object(Bucket=bucket, Key="cold.bin").get("Restore", "")
check(before == 'ongoing-request="true"' or RESTORED.match(before), "head_object after restore_object: Restore %r" % before)
try:
    r = s3.restore_object(Bucket=bucket, Key="cold.bin", RestoreRequest=req)
    second, second_err = status(r), None
except botocore.exceptions.ClientError as e:
    second, second_err = e.response["ResponseMetadata"]["HTTPStatusCode"], e.response.get("Error", {})
after = s3.head_object(Bucket=bucket, Key="cold.bin").get("Restore", "")
if before == 'ongoing-request="true"':
    if second == 409:
        check(second_err.get("Code") == "RestoreAlreadyInProgress", "second restore_object while in progress: %r, want RestoreAlreadyInProgress" % second_err)
        print("second restore_object while ongoing: 409 RestoreAlreadyInProgress ok", flush=True)
    else:
        check(second == 200 and RESTORED.match(after),
              "second restore_object while ongoing: HTTP %d %r (Restore after: %r), want 409 RestoreAlreadyInProgress" % (second, second_err, after))
        print("second restore_object: the job completed in between, 200 ok", flush=True)
else:
    check(second == 200, "second restore_object after the job completed (Restore %r): HTTP %d %r, want 200" % (before, second, second_err))
    print("second restore_object after completion: 200 ok", flush=True)

deadline = time.time() + 30
while True:
    h = s3.head_object(Bucket=bucket, Key="cold.bin")
    m = RESTORED.match(h.get("Restore", ""))
    if m:
        break
    check(h.get("Restore") == 'ongoing-request="true"', "head_object Restore %r while restoring" % h.get("Restore"))
    if time.time() > deadline:
        fail("restore did not complete within 30s: Restore %r" % h.get("Restore"))
    time.sleep(0.1)
check(h.get("StorageClass") == "GLACIER", "restored head_object StorageClass %r, want GLACIER" % h.get("StorageClass"))
expiry = email.utils.parsedate_to_datetime(m.group(1))
check(expiry.tzinfo is not None and expiry.utcoffset() == datetime.timedelta(0), "expiry-date %r is not GMT" % m.group(1))
check((expiry.hour, expiry.minute, expiry.second, expiry.microsecond) == (0, 0, 0, 0), "expiry-date %r is not at midnight" % m.group(1))
now = datetime.datetime.now(datetime.timezone.utc)
# Days=2 from completion rounded up to the next midnight.
check(now + datetime.timedelta(days=2) - datetime.timedelta(minutes=5) < expiry <= now + datetime.timedelta(days=3, minutes=5),
      "expiry-date %s is not the midnight after 2 days from now (%s)" % (expiry, now))
print("head_object restored: %s ok" % h["Restore"], flush=True)

r = s3.get_object(Bucket=bucket, Key="cold.bin")
body = r["Body"].read()
check(body == cold, "get_object of the restored object: %d bytes, differ from the %d put" % (len(body), len(cold)))
check(r.get("StorageClass") == "GLACIER", "get_object StorageClass %r, want GLACIER" % r.get("StorageClass"))
check(r.get("Restore") == h["Restore"], "get_object Restore %r, head_object %r" % (r.get("Restore"), h["Restore"]))
print("get_object restored: bytes identical ok", flush=True)

# ---- refusals ----

s3.put_object(Bucket=bucket, Key="deep.bin", Body=pseudo_random(10 * KiB, "deep"), StorageClass="DEEP_ARCHIVE")
err, code = client_error(s3.restore_object, "Expedited restore of DEEP_ARCHIVE", Bucket=bucket, Key="deep.bin",
                         RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
check(err.get("Code") == "InvalidArgument" and code == 400, "Expedited restore of DEEP_ARCHIVE: HTTP %d %r, want 400 InvalidArgument" % (code, err))
check(err.get("ArgumentName") == "Tier" and err.get("ArgumentValue") == "Expedited", "Expedited restore of DEEP_ARCHIVE: %r, want ArgumentName Tier, ArgumentValue Expedited" % err)
h = s3.head_object(Bucket=bucket, Key="deep.bin")
check(h.get("StorageClass") == "DEEP_ARCHIVE" and "Restore" not in h, "refused restore changed deep.bin: %r" % h)
print("DEEP_ARCHIVE Expedited refused: %d %s ok" % (code, err["Code"]), flush=True)

s3.put_object(Bucket=bucket, Key="hot.bin", Body=b"hot bytes")
err, code = client_error(s3.restore_object, "restore of a STANDARD object", Bucket=bucket, Key="hot.bin",
                         RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Standard"}})
check(err.get("Code") == "InvalidObjectState" and code == 403, "restore of a STANDARD object: HTTP %d %r, want 403 InvalidObjectState" % (code, err))
print("STANDARD restore refused: %d %s ok" % (code, err["Code"]), flush=True)

# ---- listing with RestoreStatus ----

r = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])
listed = {o["Key"]: o for o in r.get("Contents", [])}
check(sorted(listed) == ["cold.bin", "deep.bin", "hot.bin"], "list_objects_v2: %r" % sorted(listed))
rs = listed["cold.bin"].get("RestoreStatus")
check(rs is not None and rs.get("IsRestoreInProgress") is False, "list_objects_v2 cold.bin RestoreStatus %r, want not in progress" % rs)
check(rs.get("RestoreExpiryDate") == expiry, "list_objects_v2 cold.bin RestoreExpiryDate %r, want %r" % (rs.get("RestoreExpiryDate"), expiry))
check(listed["cold.bin"].get("StorageClass") == "GLACIER", "list_objects_v2 cold.bin StorageClass %r" % listed["cold.bin"].get("StorageClass"))
for k in ("deep.bin", "hot.bin"):
    check("RestoreStatus" not in listed[k], "list_objects_v2 %s has RestoreStatus %r, never restored" % (k, listed[k].get("RestoreStatus")))
r = s3.list_objects_v2(Bucket=bucket)
check(all("RestoreStatus" not in o for o in r.get("Contents", [])), "list_objects_v2 without OptionalObjectAttributes shows RestoreStatus")
print("list_objects_v2 RestoreStatus ok", flush=True)

# ---- scenario D: a data retrieval policy set with the Glacier API ----

big = pseudo_random(64 * KiB, "policy")
s3.put_object(Bucket=bucket, Key="policy.bin", Body=big, StorageClass="GLACIER")
try:
    r = glacier.set_data_retrieval_policy(accountId="-", Policy={"Rules": [{"Strategy": "BytesPerHour", "BytesPerHour": 1024}]})
    check(status(r) == 204, "set_data_retrieval_policy: HTTP %d, want 204" % status(r))
    p = glacier.get_data_retrieval_policy(accountId="-")
    check(p.get("Policy") == {"Rules": [{"Strategy": "BytesPerHour", "BytesPerHour": 1024}]}, "get_data_retrieval_policy: %r" % p.get("Policy"))
    print("glacier set/get_data_retrieval_policy BytesPerHour 1024 ok", flush=True)

    # 64 KiB over a 4-hour Standard window is 16 KiB/h: over the quota.
    err, code = client_error(s3.restore_object, "Standard restore over the policy", Bucket=bucket, Key="policy.bin",
                             RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Standard"}})
    check(err.get("Code") == "PolicyEnforcedException" and code == 400,
          "Standard restore over the policy: HTTP %d %r, want 400 PolicyEnforcedException" % (code, err))
    h = s3.head_object(Bucket=bucket, Key="policy.bin")
    check("Restore" not in h, "a refused restore changed the object: Restore %r" % h.get("Restore"))
    print("Standard restore refused: %d %s ok" % (code, err["Code"]), flush=True)

    r = s3.restore_object(Bucket=bucket, Key="policy.bin", RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}})
    check(status(r) == 202, "Bulk restore under the policy: HTTP %d, want 202" % status(r))
    print("Bulk restore accepted: 202 ok", flush=True)
finally:
    glacier.set_data_retrieval_policy(accountId="-", Policy=NO_POLICY)
p = glacier.get_data_retrieval_policy(accountId="-")
check(p.get("Policy") == NO_POLICY, "policy after reset: %r, want %r" % (p.get("Policy"), NO_POLICY))
print("policy reset to None ok", flush=True)

# The Bulk job completes and serves the bytes.
deadline = time.time() + 30
while not RESTORED.match(s3.head_object(Bucket=bucket, Key="policy.bin").get("Restore", "")):
    if time.time() > deadline:
        fail("Bulk restore did not complete within 30s")
    time.sleep(0.1)
check(s3.get_object(Bucket=bucket, Key="policy.bin")["Body"].read() == big, "policy.bin restored: bytes differ")
print("Bulk restore completed, bytes identical ok", flush=True)

for k in ("cold.bin", "deep.bin", "hot.bin", "policy.bin"):
    s3.delete_object(Bucket=bucket, Key=k)
s3.delete_bucket(Bucket=bucket)
print("ALL OK", flush=True)
