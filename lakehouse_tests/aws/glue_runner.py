"""A Glue client for the moto server whose job runs really execute the deployed script, in this process.

moto records job runs but executes nothing. `LocalGlueRunner` wraps a real boto3 Glue client: every call
goes to moto, and `start_job_run` then does what Glue would with the run moto recorded. It reads the job
(script location, arguments merged with the job's defaults, security configuration), downloads the
uploaded script from S3 and runs it with `runpy`, so the process's one Spark session is reused, with
`sys.argv` set to the run's arguments plus Glue's `--JOB_NAME` and `--JOB_RUN_ID`.

Local Spark cannot reach s3a:// here, so each `s3://` argument is rewritten to a local mirror of that S3
prefix: pulled before the run, and pushed back after it with the S3 encryption of the job's security
configuration (SSE-KMS with its key), deletions included. The script itself is unchanged. The captured
stdout and stderr, local paths mapped back to s3://, go to CloudWatch Logs in `/aws-glue/jobs/output`,
stream = run id, which is where dagster-aws's PipesCloudWatchMessageReader reads the Pipes messages.
`get_job_run` and `get_job_runs` report RUNNING, SUCCEEDED, FAILED (ErrorMessage = the script's
exception) or TIMEOUT (the job's Timeout, in minutes of `minute_seconds` seconds, has passed).
Tests can hold runs in RUNNING until an event is set (`hold`) and make polls fail (`poll_errors`).

Not emulated: `--extra-py-files` is checked to exist in S3 but not put on the path (the same package is
already imported in this process), and data a script derives from a file's own path (Spark's
`input_file_name()`) holds the local mirror path rather than an s3:// URI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import runpy
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster_pipes import PipesContext

from lakehouse.resources.glue import AwsGlueJobs

LOG_GROUP = "/aws-glue/jobs"
GLUE_OWN_ARGUMENTS = frozenset(
    {"--extra-py-files", "--extra-files", "--extra-jars", "--TempDir", "--spark-event-logs-path"}
)
LOG_BATCH_EVENTS = 5000
RUNNERS: dict[str, LocalGlueRunner] = {}


@dataclass
class _Synced:
    etag: str
    size: int
    mtime_ns: int


class S3Mirror:
    """Local copies of S3 prefixes under `root/<bucket>/<key>`, pulled and pushed by difference."""

    def __init__(self, s3: Any, root: Path) -> None:
        self.s3 = s3
        self.root = root
        self.synced: dict[tuple[str, str], _Synced] = {}

    def local(self, uri: str) -> str:
        """The local path standing in for an s3:// URI."""
        return f"{self.root}/{uri.removeprefix('s3://')}"

    def to_s3(self, text: str) -> str:
        """`text` with every local mirror path (plain or file: URI) written as the s3:// URI it stands for."""
        for local in (f"file://{self.root}/", f"file:{self.root}/", f"{self.root}/"):
            text = text.replace(local, "s3://")
        return text

    def _objects(self, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {o["Key"]: o for page in pages for o in page.get("Contents", [])
                if not o["Key"].endswith("/") and _under(o["Key"], prefix)}

    def _local_files(self, bucket: str, prefix: str) -> dict[str, Path]:
        base = self.root / bucket / prefix
        if base.is_file():
            return {prefix: base}
        files = base.rglob("*") if base.exists() else []
        return {p.relative_to(self.root / bucket).as_posix(): p for p in files if p.is_file()}

    def pull(self, uri: str) -> None:
        """Make the local copy of `uri` equal to S3: download new and changed objects, drop what S3 no longer holds.

        Hidden files go too: they are Hadoop's `.crc` checksums of local writes, which S3 never holds and which
        would fail the next read of a file downloaded anew under the same name.
        """
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        remote = self._objects(bucket, prefix)
        for key, path in self._local_files(bucket, prefix).items():
            if key not in remote or path.name.startswith("."):
                path.unlink()
                self.synced.pop((bucket, key), None)
        for key, obj in remote.items():
            path, known = self.root / bucket / key, self.synced.get((bucket, key))
            stat = path.stat() if path.exists() else None
            if known and stat and (known.etag, known.size, known.mtime_ns) == (
                    obj["ETag"], stat.st_size, stat.st_mtime_ns):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            stat = path.stat()
            self.synced[(bucket, key)] = _Synced(obj["ETag"], stat.st_size, stat.st_mtime_ns)
        base = self.root / bucket / prefix
        folders = [p for p in base.rglob("*") if p.is_dir()] if base.is_dir() else []
        for folder in sorted(folders, key=lambda p: -len(p.parts)):
            if not any(folder.iterdir()):
                folder.rmdir()

    def push(self, uri: str, encryption: dict[str, str]) -> None:
        """Upload new and changed local files of `uri` with `encryption`, delete the objects whose file is gone.

        Hidden files (Hadoop's `.crc` checksums of the local filesystem) stay local, as s3a writes none.
        """
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        local = self._local_files(bucket, prefix)
        for key, path in sorted(local.items()):
            if path.name.startswith("."):
                continue
            stat, known = path.stat(), self.synced.get((bucket, key))
            if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                continue
            etag = self.s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), **encryption)["ETag"]
            self.synced[(bucket, key)] = _Synced(etag, stat.st_size, stat.st_mtime_ns)
        for gone in [k for b, k in self.synced if b == bucket and k not in local and _under(k, prefix)]:
            self.s3.delete_object(Bucket=bucket, Key=gone)
            del self.synced[(bucket, gone)]


def _under(key: str, prefix: str) -> bool:
    """True when `key` is the object `prefix` or lies in the folder `prefix` (every key lies under '')."""
    return not prefix or key == prefix or key.startswith(prefix.rstrip("/") + "/")


@dataclass
class _Run:
    job: str
    run_id: str
    timeout_minutes: int
    deadline: float
    started: float = field(default_factory=time.monotonic)
    state: str = "RUNNING"
    error: str = ""
    script_done: bool = False
    completed_on: dt.datetime | None = None
    ended: float | None = None
    thread: threading.Thread | None = None


class LocalGlueRunner:
    """A boto3 Glue client on moto whose `start_job_run` executes the job's script locally (see module docstring)."""

    def __init__(self, session: Any, endpoint_url: str, workdir: Path, minute_seconds: float = 60.0,
                 wait: bool = True) -> None:
        kwargs = {"region_name": session.region_name, "endpoint_url": endpoint_url}
        self.glue, self.s3, self.logs = (session.client(s, **kwargs) for s in ("glue", "s3", "logs"))
        self.workdir = workdir
        self.mirror = S3Mirror(self.s3, workdir / "s3")
        self.minute_seconds = minute_seconds
        self.wait = wait
        self.runs: dict[str, _Run] = {}
        self.hold: threading.Event | None = None
        self.poll_errors: list[Exception] = []
        self._state = threading.Lock()
        self._one_script = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.glue, name)

    def start_job_run(self, **params: Any) -> dict[str, Any]:
        """Record the run in moto, then execute it; with `wait`, return once it ended (or timed out)."""
        response = self.glue.start_job_run(**params)
        name, run_id = params["JobName"], response["JobRunId"]
        recorded = self.glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        job = self.glue.get_job(JobName=name)["Job"]
        minutes = int(recorded.get("Timeout") or job.get("Timeout") or 2880)
        run = _Run(name, run_id, minutes, time.monotonic() + minutes * self.minute_seconds)
        run.thread = threading.Thread(target=self._work, args=(run, job, dict(recorded.get("Arguments", {}))),
                                      name=f"glue-{run_id[:12]}", daemon=True)
        with self._state:
            self.runs[run_id] = run
        run.thread.start()
        if self.wait:
            run.thread.join(max(0.0, run.deadline - time.monotonic()))
            self._settle(run)
            if run.state != "TIMEOUT":
                run.thread.join()
        return response

    def get_job_run(self, **params: Any) -> dict[str, Any]:
        """moto's record of the run, with the state its local execution reached; queued `poll_errors` raise first."""
        if self.poll_errors:
            raise self.poll_errors.pop(0)
        response = self.glue.get_job_run(**params)
        self._overlay(response["JobRun"])
        return response

    def get_job_runs(self, **params: Any) -> dict[str, Any]:
        """moto's records of the job's runs, each with the state its local execution reached."""
        response = self.glue.get_job_runs(**params)
        for run in response["JobRuns"]:
            self._overlay(run)
        return response

    def close(self) -> None:
        """Wait for every run still executing (a timed-out script runs on until it returns)."""
        for run in list(self.runs.values()):
            if run.thread is not None:
                run.thread.join()

    def _settle(self, run: _Run) -> None:
        with self._state:
            if run.state == "RUNNING" and not run.script_done and time.monotonic() > run.deadline:
                run.state, run.completed_on, run.ended = "TIMEOUT", dt.datetime.now(dt.timezone.utc), time.monotonic()
                run.error = f"Timeout: the job run exceeded the job's timeout of {run.timeout_minutes} minutes"

    def _overlay(self, record: dict[str, Any]) -> None:
        run = self.runs.get(record["Id"])
        if run is None:
            return
        self._settle(run)
        elapsed = int((run.ended or time.monotonic()) - run.started)
        record.update(JobRunState=run.state, LogGroupName=LOG_GROUP, ExecutionTime=elapsed)
        record.pop("CompletedOn", None)
        if run.completed_on is not None:
            record["CompletedOn"] = run.completed_on
        if run.error:
            record["ErrorMessage"] = run.error

    def _work(self, run: _Run, job: dict[str, Any], arguments: dict[str, str]) -> None:
        if self.hold is not None:
            self.hold.wait()
        with self._one_script:
            self._settle(run)
            if run.state == "TIMEOUT":
                return
            output, error, roots, encryption, log_key = "", None, [], {}, ""
            try:
                encryption, log_key = self._encryption(job.get("SecurityConfiguration", ""))
                script = self._download_script(run, job, arguments)
                roots = sorted({v.rstrip("/") for k, v in arguments.items()
                                if v.startswith("s3://") and k not in GLUE_OWN_ARGUMENTS})
                roots = [r for r in roots if not any(r.startswith(o + "/") for o in roots)]
                for root in roots:
                    self.mirror.pull(root)
                argv = [item for k, v in arguments.items() for item in
                        (k, self.mirror.local(v) if v.startswith("s3://") and k not in GLUE_OWN_ARGUMENTS else v)]
                output, error = self._execute(script, [*argv, "--JOB_NAME", run.job, "--JOB_RUN_ID", run.run_id])
            except Exception as exc:  # staging failed: Glue would fail the run with the cause
                output, error = traceback.format_exc(), exc
            self._settle(run)
            with self._state:
                run.script_done = run.state == "RUNNING"
            if not run.script_done:
                return
            try:
                for root in roots:
                    self.mirror.push(root, encryption)
                self._write_logs(run.run_id, self.mirror.to_s3(output), log_key)
            except Exception as exc:
                error = error or exc
            finally:
                with self._state:
                    run.state = "FAILED" if error else "SUCCEEDED"
                    run.error = self.mirror.to_s3(f"{type(error).__name__}: {error}") if error else ""
                    run.completed_on, run.ended = dt.datetime.now(dt.timezone.utc), time.monotonic()

    def _encryption(self, name: str) -> tuple[dict[str, str], str]:
        """S3 put arguments and the CloudWatch Logs KMS key of a security configuration."""
        if not name:
            return {}, ""
        config = self.glue.get_security_configuration(Name=name)["SecurityConfiguration"]["EncryptionConfiguration"]
        s3 = next(iter(config.get("S3Encryption") or config.get("S3Encryptions") or []), {})
        put = {"SSE-KMS": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": s3.get("KmsKeyArn", "")},
               "SSE-S3": {"ServerSideEncryption": "AES256"}}.get(s3.get("S3EncryptionMode", ""), {})
        logs = config.get("CloudWatchEncryption") or {}
        return put, logs.get("KmsKeyArn", "") if logs.get("CloudWatchEncryptionMode") == "SSE-KMS" else ""

    def _download_script(self, run: _Run, job: dict[str, Any], arguments: dict[str, str]) -> Path:
        """The job's script from its S3 location; every `--extra-py-files` object must exist, as Glue requires."""
        for uri in filter(None, arguments.get("--extra-py-files", "").split(",")):
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            self.s3.head_object(Bucket=bucket, Key=key)
        bucket, _, key = job["Command"]["ScriptLocation"].removeprefix("s3://").partition("/")
        script = self.workdir / "scripts" / run.run_id / Path(key).name
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return script

    @staticmethod
    def _execute(script: Path, argv: list[str]) -> tuple[str, BaseException | None]:
        """Run the script as `__main__` with `sys.argv`; return its stdout and stderr and the exception it raised.

        Each Glue run is a fresh Python process; here the one piece of process state a script keeps between
        runs, dagster-pipes' context singleton, is cleared before each run.
        """
        buffer, saved, error = io.StringIO(), sys.argv, None
        sys.argv = [str(script), *argv]
        PipesContext._instance = None  # noqa: SLF001
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                try:
                    runpy.run_path(str(script), run_name="__main__")
                except SystemExit as exit_:
                    if exit_.code not in (0, None):
                        error = exit_
                        traceback.print_exc()
                except BaseException as exc:
                    error = exc
                    traceback.print_exc()
        finally:
            sys.argv = saved
        return buffer.getvalue(), error

    def _write_logs(self, run_id: str, text: str, kms_key: str) -> None:
        """The run's output as CloudWatch events in `/aws-glue/jobs/output`, one event per line."""
        group = f"{LOG_GROUP}/output"
        with contextlib.suppress(self.logs.exceptions.ResourceAlreadyExistsException):
            self.logs.create_log_group(logGroupName=group, **({"kmsKeyId": kms_key} if kms_key else {}))
        self.logs.create_log_stream(logGroupName=group, logStreamName=run_id)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line} for line in text.splitlines() if line.strip()]
        for start in range(0, len(events), LOG_BATCH_EVENTS):
            batch = events[start:start + LOG_BATCH_EVENTS]
            self.logs.put_log_events(logGroupName=group, logStreamName=run_id, logEvents=batch)


class LocallyRunGlueJobs(AwsGlueJobs):
    """The aws profile's Glue resource, its Glue client a registered `LocalGlueRunner`."""

    runner: str

    def glue_client(self) -> Any:
        """The runner registered under `runner` in `RUNNERS`."""
        return RUNNERS[self.runner]


def locally_run_glue_jobs(aws: AwsGlueJobs, runner: LocalGlueRunner) -> LocallyRunGlueJobs:
    """`aws` (as build_resources made it) with its Glue client replaced by `runner`."""
    key = f"runner-{id(runner)}"
    RUNNERS[key] = runner
    return LocallyRunGlueJobs(scripts_uri=aws.scripts_uri, region=aws.region, job_prefix=aws.job_prefix,
                              endpoint_url=aws.endpoint_url, runner=key)
