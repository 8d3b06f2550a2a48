"""How a parquet file is cut into parts (audits.parts.parquet_plan)."""

import pyarrow.parquet as pq

from audits.parts import parquet_plan
from audits.synthetic import commonpool_table


def _manifest(tmp_path, rows: int, group: int):
    path = tmp_path / "m.parquet"
    pq.write_table(commonpool_table([{} for _ in range(rows)]), path, row_group_size=group)
    return path


def test_parts_are_whole_row_groups_up_to_the_part_size(tmp_path):
    parts, total, error = parquet_plan(_manifest(tmp_path, 1000, 100), part_rows=400)
    assert error == "" and total == 1000
    # 4 + 4 groups, then the last 2 are half a part or more: a part of their own
    assert parts == [(0, 0, 400), (4, 400, 400), (8, 800, 200)]


def test_a_short_last_part_goes_with_the_one_before(tmp_path):
    """A last part under half the part size would be one row group read by one thread while
    the other cores wait: it is scanned with the part before it."""
    parts, total, _ = parquet_plan(_manifest(tmp_path, 900, 100), part_rows=400)
    assert total == 900
    assert parts == [(0, 0, 400), (4, 400, 500)]
    # every row in exactly one part
    covered = [row for _, first, rows in parts for row in range(first, first + rows)]
    assert covered == list(range(900))


def test_a_file_smaller_than_a_part_is_one_part(tmp_path):
    parts, total, _ = parquet_plan(_manifest(tmp_path, 150, 100), part_rows=400)
    assert parts == [(0, 0, 150)] and total == 150
