"""The embedded broker (portal/broker.py): a half-written message does not kill a worker, and a
message is only ever visible whole."""

import json

import pytest
from kombu import Connection
from kombu.utils.json import dumps

import portal.broker  # noqa: F401


def _conn(scheme, tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir(exist_ok=True)
    return Connection(
        f"{scheme}://",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(tmp_path / "control"),
        },
    )


def _half_written(tmp_path, queue="jobs"):
    """What a consumer finds when it lists the folder between a producer's open() and write();
    named to sort before any real message (kombu names them by monotonic milliseconds)."""
    (tmp_path / "queue" / f"0_half.{queue}.msg").write_bytes(b"")


def test_kombus_own_transport_dies_on_a_half_written_message(tmp_path):
    with _conn("filesystem", tmp_path) as conn:
        _half_written(tmp_path)
        with pytest.raises(json.JSONDecodeError):  # the "Unrecoverable error" that stopped make run
            conn.default_channel._get("jobs")


def test_the_safe_transport_sets_it_aside_and_goes_on(tmp_path, caplog):
    with _conn("safefs", tmp_path) as conn:
        q = conn.SimpleQueue("jobs")
        _half_written(tmp_path)
        q.put({"n": 1})
        message = q.get(timeout=1)
        assert message.payload == {"n": 1}
        message.ack()
    assert (tmp_path / "broken" / "0_half.jobs.msg").exists()
    assert "could not be read" in caplog.text


def test_messages_appear_whole_and_a_removed_folder_comes_back(tmp_path):
    import shutil

    with _conn("safefs", tmp_path) as conn:
        q = conn.SimpleQueue("cleared")
        # a message being written has a hidden name no consumer takes
        (tmp_path / "queue" / ".2_x.cleared.msg.partial").write_bytes(dumps({"n": 0}).encode()[:5])
        q.put({"n": 2})
        assert q.get(timeout=1).payload == {"n": 2}
        assert (tmp_path / "queue" / ".2_x.cleared.msg.partial").exists()
        # someone cleared var/celery under a running stack: queue and routing tables
        shutil.rmtree(tmp_path / "queue")
        shutil.rmtree(tmp_path / "control")
        with pytest.raises(q.Empty):
            q.get(timeout=0.5)
        q.put({"n": 3})
        assert q.get(timeout=1).payload == {"n": 3}
