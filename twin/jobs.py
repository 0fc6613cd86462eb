"""A small background job runner: one worker thread, a bounded queue, status/progress/result/error per job."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .errors import Conflict, NotFound, TwinError

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")  # the states a job goes through: these two, then one of FINISHED
FINISHED = ("done", "failed")


@dataclass
class Job:
    """One background job; `result` holds the function's return value once status is "done"."""

    id: str
    kind: str
    params: dict
    status: str = "queued"
    progress: float = 0.0
    message: str = ""
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: object = None
    error: dict | None = None

    def to_dict(self) -> dict:
        """JSON-able status (without the result itself)."""
        now = self.finished or time.time()
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 3),
            "message": self.message,
            "params": self.params,
            "elapsed_s": round(now - self.started, 2) if self.started else 0.0,
            "error": self.error,
        }


class JobRunner:
    """Runs jobs one at a time in a background thread; refuses new jobs when `max_queued` are waiting."""

    def __init__(self, workers: int = 1, max_queued: int = 4, keep: int = 20):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="twin-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self.max_queued, self.keep = max_queued, keep

    def submit(self, kind: str, fn, params: dict | None = None) -> Job:
        """Queue `fn(progress)` (progress(fraction, message)); Conflict when the queue is full."""
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.status in ACTIVE)
            if waiting >= self.max_queued:
                raise Conflict(f"{waiting} jobs are already waiting or running; try again when one has finished")
            job = Job(id=uuid.uuid4().hex, kind=kind, params=params or {})
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job, fn)
        return job

    def get(self, job_id: str) -> Job:
        """The job with this id; NotFound when unknown or forgotten."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(
                f"job {job_id!r} does not exist (finished jobs are kept for the last {self.keep})", id=job_id
            )
        return job

    def wait(self, job_id: str, timeout: float = 60.0) -> Job:
        """Block until the job has finished or `timeout` seconds passed (for scripts and tests)."""
        end = time.monotonic() + timeout
        job = self.get(job_id)
        while job.status in ACTIVE and time.monotonic() < end:
            time.sleep(0.05)
        return job

    def shutdown(self) -> None:
        """Stop taking jobs and wait for the running one."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: Job, fn) -> None:
        job.status, job.started = "running", time.time()

        def progress(fraction: float, message: str = "") -> None:
            job.progress = max(job.progress, min(1.0, float(fraction)))
            job.message = message

        try:
            job.result = fn(progress)
            job.progress, job.status = 1.0, "done"
        except TwinError as exc:
            job.error, job.status = exc.to_dict(), "failed"
            log.info("job %s failed: %s", job.id, exc.message)
        except Exception:  # never lose the worker thread; the caller sees a generic error, the log the traceback
            log.exception("job %s (%s) failed", job.id, job.kind)
            job.error = {"code": "internal_error", "message": "the job failed; the error has been logged"}
            job.status = "failed"
        finally:
            job.finished = time.time()

    def _forget_old(self) -> None:
        done = [k for k, j in self._jobs.items() if j.status in FINISHED]
        for k in done[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[k]
