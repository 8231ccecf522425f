"""The calendar tags the right days; the network refuses what cannot be planned, naming the key."""

from __future__ import annotations

from datetime import date

import pytest

from cloud.planning.calendar import DateWindow, PromotionEvent, build_tags, holiday_blocks
from cloud.planning.network import Lane, Network, NetworkError, Warehouse

SH = Warehouse(code="SH", country="CN", timezone="Asia/Shanghai")
LA = Warehouse(code="LA", country="US", region="CA", timezone="America/Los_Angeles")


def test_chinese_and_us_days() -> None:
    tags = build_tags([SH, LA], date(2024, 1, 1), 800)
    assert tags.names_on("SH", date(2025, 1, 29)) == "spring_festival"
    assert tags.names_on("SH", date(2025, 2, 4)) == "spring_festival"  # a substituted day off, same break
    assert tags.names_on("SH", date(2025, 1, 20)) == "spring_festival:pre"
    assert tags.names_on("SH", date(2025, 11, 11)) == "11.11"
    assert tags.names_on("SH", date(2025, 11, 5)) == "11.11:pre"
    assert tags.names_on("SH", date(2025, 6, 18)) == "618"
    assert tags.names_on("SH", date(2025, 10, 2)) == "holiday:National Day"
    assert tags.names_on("LA", date(2025, 11, 28)) == "black_friday"  # the day after Thanksgiving 2025
    assert tags.names_on("LA", date(2025, 12, 1)) == "black_friday"  # Cyber Monday
    assert tags.names_on("LA", date(2025, 11, 27)) == "holiday:Thanksgiving Day"
    assert tags.names_on("LA", date(2025, 7, 4)) == "holiday:Independence Day"
    assert tags.names_on("LA", date(2025, 11, 11)) == "holiday:Veterans Day"
    assert tags.names_on("LA", date(2025, 3, 12)) == ""


def test_a_site_event_only_where_taken_part_in() -> None:
    sale = PromotionEvent(
        name="anniversary",
        windows=(DateWindow(start=date(2024, 8, 8), end=date(2024, 8, 9)),),
        annual=True,
        post_days=1,
    )
    la = LA.model_copy(update={"events": ("anniversary",)})
    tags = build_tags([SH, la], date(2024, 1, 1), 800, {"anniversary": sale})
    assert tags.names_on("LA", date(2025, 8, 9)) == "anniversary"
    assert tags.names_on("LA", date(2025, 8, 10)) == "anniversary:post"
    assert tags.names_on("LA", date(2025, 11, 28)).startswith("holiday:")  # black_friday no longer listed
    assert tags.names_on("SH", date(2025, 8, 9)) == ""
    with pytest.raises(ValueError, match="unknown event 'nope'"):
        build_tags([SH.model_copy(update={"events": ("nope",)})], date(2024, 1, 1), 10)


def test_holiday_runs_keep_one_name_a_holiday() -> None:
    runs = holiday_blocks("CN", "", 2025, 2025)
    assert ("Chinese New Year (Spring Festival)", date(2025, 1, 29), date(2025, 2, 4)) in runs
    with pytest.raises(ValueError, match="CN-XX"):
        holiday_blocks("CN", "XX", 2025, 2025)


def test_network_errors_name_the_key() -> None:
    base = {"warehouses": [{"code": "SH", "country": "CN"}, {"code": "LA", "country": "US"}]}
    with pytest.raises(NetworkError, match=r"lanes\[0\]\.destination: unknown warehouse 'SZ'"):
        Network.parse({**base, "lanes": [{"origin": "SH", "destination": "SZ", "transit_days": 2}]})
    with pytest.raises(NetworkError, match=r"warehouses\[1\]\.code: duplicate"):
        Network.parse({"warehouses": [{"code": "SH", "country": "CN"}, {"code": "SH", "country": "CN"}]})
    with pytest.raises(NetworkError, match=r"warehouses\[0\]\.timezone"):
        Network.parse({"warehouses": [{"code": "SH", "country": "CN", "timezone": "Mars/Olympus"}]})
    with pytest.raises(NetworkError, match=r"lanes\[0\].*min_shipment 50 is above capacity 10"):
        Network.parse(
            {
                **base,
                "lanes": [{"origin": "SH", "destination": "LA", "transit_days": 5, "capacity": 10, "min_shipment": 50}],
            }
        )
    net = Network.parse({**base, "lanes": [{"origin": "SH", "destination": "LA", "transit_days": 5}]})
    assert net.lane("SH", "LA") == Lane(origin="SH", destination="LA", transit_days=5)
    assert net.lane("LA", "SH") is None
