"""`laborhub maintain [--ahead-months 12]`: make the partitions of the months ahead.

`insurance_records` is partitioned by year of `period` (db/partitions.py), and a row can only
be written into a partition that exists. This makes, after migrating, the partitions of this
month (in China Standard Time) and of the next N months that are missing, and prints one line
per partition made (`created insurance_records_y2027 [2027-01-01, 2028-01-01)`); nothing when
all are there. Running it again makes nothing: run it from cron, monthly or at least
yearly, so that writers rarely have to make a partition on demand.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg

from db.partitions import Partition, ensure_partitions_ahead, existing_partitions
from db.session import sync_url
from server.cli_base import SubParsers, database, describe_database, note, prepare_database
from server.settings import Settings

CALENDAR = ZoneInfo("Asia/Shanghai")
DEFAULT_AHEAD_MONTHS = 12


def register(commands: SubParsers) -> None:
    """Add the `maintain` command to the `laborhub` subparsers `commands`."""
    maintain: argparse.ArgumentParser = commands.add_parser(
        "maintain",
        help="make the insurance-record partitions of this month and the months ahead",
        description="Make the insurance-record partitions of this month and the next N "
        "months that are missing; prints each one made.",
    )
    maintain.add_argument(
        "--ahead-months", type=months, default=DEFAULT_AHEAD_MONTHS, metavar="N",
        help=f"how many months after this one to cover (default {DEFAULT_AHEAD_MONTHS})",
    )
    maintain.set_defaults(handler=cmd_maintain)


def months(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 1200:
        raise argparse.ArgumentTypeError(f"must be 0 to 1200 months, got {value}")
    return value


def cmd_maintain(settings: Settings, args: argparse.Namespace) -> int:
    today = datetime.now(CALENDAR).date()
    with database(settings) as url:
        note(f"database: {describe_database(settings, url)}")
        asyncio.run(prepare_database(url))
        made, partitions = asyncio.run(_maintain(url, today, args.ahead_months))
    for partition in made:
        print(f"created {partition}")
    years = ", ".join(str(partition.year) for partition in partitions) or "none"
    note(f"partitions made: {len(made)}; insurance_records has partitions for {years}")
    return 0


async def _maintain(
    url: str, today: date, ahead_months: int
) -> tuple[list[Partition], list[Partition]]:
    """The partitions made, and all there are now."""
    conn = await asyncpg.connect(sync_url(url))
    try:
        made = await ensure_partitions_ahead(conn, today, ahead_months)
        return made, await existing_partitions(conn)
    finally:
        await conn.close()


__all__ = ["register"]
