"""The embedded broker of `make run`: kombu's file-system transport, made safe.

kombu's own writes a message file in place and a consumer may move it away half-written; the
worker then dies reading it (`Unrecoverable error: JSONDecodeError`, kombu #1551, seen here after
about four minutes of ordinary use). This transport:

1. writes each message to a hidden temporary name in the same folder, flushes it to disk and
   renames it into place: a consumer only ever sees whole files (rename is atomic on POSIX);
2. puts a message it cannot read aside in `broken/` with a log line instead of dying;
3. re-creates its folders if they were deleted under it (an operator clearing `var/celery`),
   routing tables included: kombu keeps them in memory too, and a producer whose table file
   vanished would otherwise drop every message it sends.

A message a worker had fetched when it was SIGKILLed is still lost, as with kombu's transport:
nothing in the portal assumes otherwise (audit parts and beat ticks are leased and re-queued,
core/leases.py). The URL is `safefs://`.
"""

import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)
SCHEME = "safefs"


class Channel(filesystem.Channel):
    def _folders(self):
        for folder in (self.data_folder_in, self.data_folder_out, self.control_folder):
            Path(folder).mkdir(parents=True, exist_ok=True)

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        data = str_to_bytes(dumps(payload))
        for attempt in (1, 2):
            try:
                with open(partial, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(partial, final)
                return
            except FileNotFoundError:
                if attempt == 2:
                    raise
                self._folders()  # the folder was removed under us

    def _get(self, queue):
        wanted = f"{queue}.msg"
        try:
            names = sorted(os.listdir(self.data_folder_in))
        except FileNotFoundError:
            self._folders()
            raise Empty() from None
        for name in names:
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue
            taken = os.path.join(tempfile.gettempdir(), f"{os.getpid()}-{name}")
            try:
                os.replace(os.path.join(self.data_folder_in, name), taken)
            except OSError:  # another consumer took it first
                continue
            try:
                with open(taken, "rb") as handle:
                    payload = handle.read()
                message = loads(bytes_to_str(payload))
            except (OSError, ValueError) as exc:
                broken = Path(self.data_folder_in).parent / "broken"
                broken.mkdir(parents=True, exist_ok=True)
                shutil.move(taken, broken / name)
                logger.error("broker message %s could not be read (%s); kept in %s", name, exc, broken)
                continue
            os.remove(taken)
            return message
        raise Empty()

    def get_table(self, exchange):
        table = super().get_table(exchange)
        if table or self._exchange_file(exchange).exists():
            return table
        known = virtual.Channel.get_table(self, exchange) if exchange in self.state.exchanges else []
        for routing_key, pattern, queue in known:  # the file went away: write back what we know
            self._queue_bind(exchange, routing_key, pattern, queue)
        return known

    def _size(self, queue):
        try:
            return super()._size(queue)
        except FileNotFoundError:
            return 0


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = driver_name = SCHEME


TRANSPORT_ALIASES.setdefault(SCHEME, "portal.broker:Transport")
