"""Appends as fast as it can and prints each acknowledged op_id: the victim of the kill -9 test."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

from edge.config import parse_config
from sync.ops import OpDraft, utc_now
from tests.support.edge import LOCATIONS, SKUS, open_journal, site_dict


async def main(store_dir: Path, appenders: int) -> None:
    cfg = parse_config(site_dict(store_dir))
    rng = random.Random()
    out = sys.stdout

    async with open_journal(cfg) as journal:

        async def appender() -> None:
            while True:
                draft = OpDraft.model_validate(
                    {
                        "payload": {
                            "kind": "receive",
                            "sku": rng.choice(SKUS),
                            "location": rng.choice(LOCATIONS),
                            "qty": rng.randint(1, 9),
                        },
                        "actor": "crash",
                        "occurred_at": utc_now(),
                    }
                )
                op = await journal.append(draft)
                out.write(f"{op.op_id} {op.seq}\n")
                out.flush()

        await asyncio.gather(*(appender() for _ in range(appenders)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
