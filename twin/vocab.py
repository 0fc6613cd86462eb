"""The domain's fixed vocabularies (codes with Chinese and English labels), from DOMAIN.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Property-management state of a compound (物业状态): the colour that matters most.
PROPERTY_STATES = {
    "company": ("物业公司", "Property company"),
    "fallback": ("国企托底", "State fallback (red property)"),
    "welfare": ("公益性物业", "Public-welfare property"),
    "self": ("自管自治", "Self-governed"),
    "unmanaged": ("失管弃管", "Unmanaged / abandoned"),
}

BUILDING_USES = {
    "residential": ("住宅", "Residential"),
    "mixed": ("商住", "Mixed use"),
    "commercial": ("商业", "Commercial"),
    "public": ("公共服务", "Public service"),
    "ancillary": ("附属用房", "Ancillary (garage, shed, parking, toilets, roof)"),  # never has households
}

# Functional type of a grid (Xilin's five types).
GRID_TYPES = {
    "dispute": ("矛盾调解型", "Dispute resolution"),
    "renewal": ("城市更新型", "Urban renewal"),
    "community": ("社区营造型", "Community building"),
    "environment": ("环境整治型", "Environment"),
    "enterprise": ("企业服务型", "Enterprise service"),
}

INCIDENT_SOURCES = {
    "hotline_12345": ("12345热线", "12345 hotline"),
    "hotline_local": ("本地热线", "Local hotline"),
    "patrol": ("网格巡查", "Grid patrol"),
    "app": ("居民随手拍", "Resident app / QR"),
    "camera": ("AI摄像头", "AI camera"),
    "sensor": ("物联感知", "Sensor"),
    "visit": ("入户走访", "Door-knocking visit"),
}

# Stages of the work-order lifecycle, in order.
INCIDENT_STAGES = {
    "reported": ("已上报", "Reported"),
    "accepted": ("已受理", "Accepted"),
    "on_site": ("已到场", "On site"),
    "resolved": ("已办结", "Resolved"),
    "closed": ("已关闭", "Closed"),
}

# Escalation levels: small matters stay in the grid, big ones the community discusses, hard ones go to departments.
ESCALATION_LEVELS = {
    "grid": ("网格", "Grid"),
    "community": ("社区", "Community"),
    "department": ("部门", "Department"),
}

# Incident categories: code -> (zh, en, group, six-nos item or None).
INCIDENT_CATEGORIES = {
    "garbage": ("垃圾杂物堆放", "Garbage and clutter", "environment", "no_garbage"),
    "illegal_structure": ("私搭乱建", "Illegal structure", "environment", "no_illegal_structure"),
    "flying_line_charging": ("飞线充电", "Flying-line e-bike charging", "safety", "no_fire_hazard"),
    "fire_hazard": ("消防隐患", "Fire hazard", "safety", "no_fire_hazard"),
    "subsidence": ("地面塌陷", "Ground subsidence", "facility", None),
    "roof_leak": ("屋顶漏水", "Roof leak", "facility", None),
    "heating_pipe": ("暖气管道损坏", "Heating pipe damage", "facility", None),
    "elevator": ("电梯故障", "Elevator failure", "facility", None),
    "water_leak": ("供水管网漏水", "Water leak", "facility", None),
    "drain": ("下水道堵塞", "Blocked drain", "facility", None),
    "manhole": ("井盖缺损", "Damaged manhole cover", "facility", None),
    "lighting": ("路灯照明", "Lighting", "facility", None),
    "parking": ("停车秩序", "Parking", "order", None),
    "neighbour_dispute": ("邻里纠纷", "Neighbour dispute", "dispute", None),
    "fee_arrears": ("物业欠费投诉", "Fee arrears complaint", "property", "no_fee_arrears"),
    "security": ("治安事件", "Security incident", "safety", "no_security_incident"),
    "petition": ("信访", "Petition", "dispute", "no_petition"),
    "sos": ("紧急呼救", "SOS alarm", "care", None),
    "care_visit": ("独居老人上门探视", "Visit to elderly living alone", "care", None),
}

# Groups of incident categories (the third field above), as Open311 lists them.
CATEGORY_GROUPS = {
    "environment": ("环境卫生", "Environment"),
    "safety": ("安全隐患", "Safety"),
    "facility": ("设施设备", "Facilities"),
    "order": ("秩序管理", "Public order"),
    "dispute": ("矛盾纠纷", "Disputes"),
    "property": ("物业服务", "Property management"),
    "care": ("民生关爱", "Care"),
}

SIX_NOS = {
    "no_garbage": ("无垃圾杂物", "No garbage or clutter"),
    "no_illegal_structure": ("无私搭乱建", "No illegal structures"),
    "no_fee_arrears": ("无欠费投诉", "No fee-arrears complaints"),
    "no_security_incident": ("无治安事件", "No security incidents"),
    "no_petition": ("无信访", "No petitions"),
    "no_fire_hazard": ("无消防隐患", "No fire hazards"),
}

# Risk levels of a building, compound or grid (twin.risk), lowest first.
RISK_LEVELS = {
    "low": ("低", "Low"),
    "medium": ("中", "Medium"),
    "high": ("高", "High"),
    "critical": ("极高", "Critical"),
}

# Factors of the risk model (twin.risk.DEFAULT_WEIGHTS), as shown beside a score.
RISK_FACTORS = {
    "property_state": ("物业状态", "Property state"),
    "no_owners_committee": ("无业委会", "No owners' committee"),
    "build_age": ("房龄", "Building age"),
    "elderly_alone": ("独居老人", "Elderly living alone"),
    "open_incidents": ("在办事件", "Open incidents"),
    "overdue_incidents": ("超时事件", "Overdue incidents"),
    "fire_hazard": ("消防隐患", "Fire hazards"),
    "flying_line_charging": ("飞线充电", "Flying-line charging"),
    "repeat_incidents": ("重复投诉", "Repeat incidents"),
}

# Build decades: one set of bins for every page and answer (the year is the building's, else its compound's).
DECADE_EDGES = (1970, 1980, 1990, 2000, 2010, 2020)
BUILD_DECADES = {
    "pre1970": ("1970年前", "Before 1970"),
    "1970s": ("1970年代", "1970s"),
    "1980s": ("1980年代", "1980s"),
    "1990s": ("1990年代", "1990s"),
    "2000s": ("2000年代", "2000s"),
    "2010s": ("2010年代", "2010s"),
    "2020s": ("2020年后", "2020 on"),
    "unknown": ("年代不详", "Unknown"),
}

# Share of special-care households (elderly living alone, key groups) in a building, in bins; fewer than
# twin.access.SUPPRESS_BELOW such households is always the first bin, whatever the share.
CARE_EDGES = (0.10, 0.20, 0.35)
CARE_BINS = {
    "hidden": ("不足3户（不显示）", "Under 3 households (hidden)"),
    "under_10": ("10%以下", "Under 10%"),
    "10_20": ("10%–20%", "10–20%"),
    "20_35": ("20%–35%", "20–35%"),
    "35_up": ("35%及以上", "35% and more"),
}


def decade_codes(years) -> np.ndarray:
    """The BUILD_DECADES code of each build year (NaN → "unknown")."""
    years = pd.to_numeric(pd.Series(years), errors="coerce").to_numpy(dtype=float)
    codes = np.asarray(list(BUILD_DECADES), dtype=object)
    out = codes[np.digitize(np.nan_to_num(years), DECADE_EDGES)]
    out[np.isnan(years)] = "unknown"
    return out


def tables() -> dict:
    """Every vocabulary as code → [zh, en], as pages receive them (Twin.label in web/static/common.js)."""
    named = {
        "property_states": PROPERTY_STATES,
        "building_uses": BUILDING_USES,
        "grid_types": GRID_TYPES,
        "incident_sources": INCIDENT_SOURCES,
        "incident_stages": INCIDENT_STAGES,
        "escalation_levels": ESCALATION_LEVELS,
        "incident_categories": INCIDENT_CATEGORIES,
        "six_nos": SIX_NOS,
        "risk_levels": RISK_LEVELS,
        "risk_factors": RISK_FACTORS,
        "build_decades": BUILD_DECADES,
        "care_bins": CARE_BINS,
        "household_flags": HOUSEHOLD_FLAGS,
        "area_repairs": AREA_REPAIRS,
    }
    return {name: {code: list(entry[:2]) for code, entry in table.items()} for name, table in named.items()}


def label(table: dict, code: str, lang: str = "zh") -> str:
    """The Chinese or English label of `code` in a vocabulary table."""
    entry = table.get(code)
    if entry is None:
        return code
    return entry[0] if lang == "zh" else entry[1]


# What the cells of a building's floors × units view can be coloured by (twin/units.py).
HOUSEHOLD_FLAGS = {
    "elderly_alone": ("独居老人", "Elderly living alone"),
    "floating": ("流动人口", "Floating population"),
    "key_group": ("重点人群", "Key group"),
    "vacant": ("空置", "Vacant"),
    "size": ("户人口", "Household size"),
}

# The three time limits of a work order ("三个一"), as the stage that meets each.
INCIDENT_LIMITS = {
    "accept": ("受理", "Accept"),
    "on_site": ("到场", "On site"),
    "resolve": ("办结", "Resolve"),
}

# What was wrong with a drawn query polygon that twin.area_input repaired (GEOS reasons, in words).
AREA_REPAIRS = {
    "self_intersection": ("边线相互交叉，已在交叉处拆分", "its edges crossed; split where they cross"),
    "ring_self_intersection": ("边界在一点上自相接触，已拆开", "its outline touched itself; separated there"),
    "duplicate_points": ("有重复的点，已去掉", "it had repeated points; removed"),
    "too_few_points": ("点太少，已补成面", "it had too few points; closed into an area"),
    "hole_outside_shell": ("内洞在外框之外，已去掉", "a hole lay outside the outline; removed"),
    "nested": ("区域相互嵌套，已合并", "parts lay inside each other; merged"),
    "invalid": ("几何形状无效，已自动修复", "the shape was invalid; repaired"),
}
