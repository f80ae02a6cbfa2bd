import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from geo.rules import Facts, decide, decide_many, rules_from_table, window_mask

TABLE = pd.DataFrame(
    [
        (10, "lawful", "09006", "*", "vendor_zone", "open", "none", "lawful_in_zone", "合规", "lawful"),
        (20, "lianwei", "*", "lianwei", "*", "*", "district_squad:lianwei", "", "两违", "illegal construction"),
        (30, "ads", "07*", "*", "*", "*", "district_squad:advertising", "", "广告", "ads"),
        (40, "closed", "09006", "*", "vendor_zone", "closed", "subdistrict_squad", "outside_hours", "x", "x"),
        (50, "street", "*", "*", "model_street", "*", "custodian", "", "样板", "model"),
        (60, "territorial", "*", "*", "*", "*", "subdistrict_squad", "", "属地", "territorial"),
    ],
    columns=["order", "rule", "matters", "squad_types", "zone", "time", "owner", "flag", "reason_zh", "reason_en"],
)
RULES = rules_from_table(TABLE.sample(frac=1, random_state=1))  # order comes from the column, not the rows


def test_order_column_decides():
    assert [r.rule for r in RULES] == list(TABLE["rule"])


def test_examples():
    def f(matter, st_, zones=(), open_=()):
        return RULES[decide(RULES, Facts(matter, st_, frozenset(zones), frozenset(open_)))].rule

    assert f("09006", "subdistrict", {"vendor_zone"}, {"vendor_zone"}) == "lawful"
    assert f("09006", "subdistrict", {"vendor_zone"}) == "closed"
    assert f("09006", "subdistrict") == "territorial"
    assert f("06001", "lianwei", {"model_street"}) == "lianwei"
    assert f("07003", "advertising") == "ads"
    assert f("06010", "none", {"model_street"}) == "street"


matters = st.sampled_from(["09006", "06001", "07003", "07006", "06010", "99001"])
squad_types = st.sampled_from(["subdistrict", "lianwei", "advertising", "none"])
zone_sets = st.frozensets(st.sampled_from(["vendor_zone", "storefront_zone", "model_street", "signboard_segment"]))


@given(st.lists(st.tuples(matters, squad_types, zone_sets, zone_sets), min_size=1, max_size=30))
def test_decide_many_equals_decide(rows):
    facts = [Facts(m, s, z, o & z & {"vendor_zone", "storefront_zone"}) for m, s, z, o in rows]
    zones = ["vendor_zone", "storefront_zone", "model_street", "signboard_segment"]
    many = decide_many(
        RULES,
        np.array([f.matter for f in facts]),
        np.array([f.squad_type for f in facts]),
        {z: np.array([z in f.zones for f in facts]) for z in zones},
        {z: np.array([z in f.open_zones for f in facts]) for z in zones},
    )
    assert many.tolist() == [decide(RULES, f) for f in facts]


def test_window_mask_wraps_midnight():
    m = window_mask("18:00-01:00;07:00-09:00")
    assert m[18 * 60] and m[23 * 60 + 59] and m[0] and m[59]
    assert not m[60] and not m[17 * 60 + 59]
    assert m[7 * 60] and not m[9 * 60]


def test_a_graded_zone_and_what_a_rule_gives():
    table = pd.DataFrame(
        [
            (10, "premium", "*", "advertising", "signboard_segment:premium", "*", "x", "", "精", "p", "urgent", ""),
            (20, "controlled", "*", "advertising", "signboard_segment:controlled", "*", "x", "", "控", "c", "", "0.75"),
            (30, "segment", "*", "advertising", "signboard_segment", "*", "x", "", "路段", "segment", "", ""),
            (40, "territorial", "*", "*", "*", "*", "subdistrict_squad", "", "属地", "territorial", "", ""),
        ],
        columns=[*TABLE.columns, "urgency", "deadline_factor"],
    )
    rules = rules_from_table(table)
    assert [(r.urgency, r.deadline_factor) for r in rules] == [("urgent", 1.0), ("", 0.75), ("", 1.0), ("", 1.0)]

    def f(squad_type, zones):
        return rules[decide(rules, Facts("07006", squad_type, frozenset(zones), frozenset()))].rule

    assert f("advertising", {"signboard_segment", "signboard_segment:premium"}) == "premium"
    assert f("advertising", {"signboard_segment", "signboard_segment:controlled"}) == "controlled"
    assert f("advertising", {"signboard_segment"}) == "segment"  # a segment without a grade
    assert f("subdistrict", {"signboard_segment", "signboard_segment:premium"}) == "territorial"
    # the old table (no urgency, no deadline_factor columns) still reads: nothing changes
    assert {(r.urgency, r.deadline_factor) for r in RULES} == {("", 1.0)}
