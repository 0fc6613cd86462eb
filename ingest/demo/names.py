"""Fake but well-formed Chinese names, phone numbers and place names, drawn from a seeded numpy generator."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

# The most common surnames, roughly in order of frequency (weights fall off with rank).
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志海波宁浩"
    "婷雪琳晨欣宇轩博文斌凤淑兰珍秋云莉国庆春梅德福振东立新永红卫东"
)
# Valid Chinese mobile prefixes (China Mobile, Unicom, Telecom).
PHONE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        134,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        157,
        158,
        159,
        166,
        176,
        177,
        178,
        180,
        181,
        182,
        183,
        185,
        186,
        187,
        188,
        189,
        191,
        198,
        199,
    ]
)

COMMUNITY_WORDS = list(
    "东风 西园 南苑 北新 建华 胜利 和平 五一 光明 红旗 新华 振兴 长青 清水 明德 安居 "
    "兴隆 福寿 育才 春晖 朝阳 工农 前进 永安 宏图 金桥 通泰 德胜 怡安 丰泽".split()
)
OLD_COMPOUND = [
    "纺织厂宿舍",
    "机械厂家属院",
    "煤机厂小区",
    "卷烟厂宿舍",
    "化肥厂家属院",
    "电业局宿舍",
    "粮食局家属院",
    "建安公司宿舍",
    "铁路小区",
    "邮电小区",
    "供销社家属院",
    "师范宿舍",
    "医院家属院",
    "第二中学宿舍",
    "水泥厂小区",
    "毛纺厂宿舍",
    "农机厂家属院",
    "百货公司宿舍",
    "轴承厂小区",
    "印刷厂宿舍",
]
NEW_SUFFIX = ["花园", "家园", "雅苑", "名苑", "新城", "佳苑", "华庭", "嘉园", "公馆", "丽景"]
NEW_PREFIX = list(
    "锦绣 翰林 御景 盛世 阳光 金色 香榭 龙湖 碧水 泰和 恒达 紫云 凯旋 万和 润泽 天悦 世纪 "
    "怡景 富康 瑞祥 清华 蓝湾 鑫源 玉兰 海棠 星河 宏泰 融城".split()
)
COMPANIES = [
    "万家物业服务有限公司",
    "恒信物业管理有限公司",
    "安居物业服务有限公司",
    "瑞景物业管理有限公司",
    "宏达物业服务有限公司",
    "绿城物业服务有限公司",
    "碧桂园生活服务有限公司",
    "鑫诚物业管理有限公司",
]
FALLBACK_COMPANY = "桥东区城投物业服务有限公司"  # a state-owned company: the "red property" fallback
NUMERALS = "一二三四五六七八九十"


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` fake Chinese names: a frequency-weighted common surname and one or two given-name characters."""
    w = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.8
    sur = rng.choice(len(SURNAMES), n, p=w / w.sum())
    first = rng.integers(0, len(GIVEN), n)
    second = rng.integers(-len(GIVEN) // 2, len(GIVEN), n)  # negative: a one-character given name (about a third)
    g = GIVEN
    return np.array(
        [
            SURNAMES[s] + g[a] + (g[b] if b >= 0 else "")
            for s, a, b in zip(sur.tolist(), first.tolist(), second.tolist())
        ],
        dtype=object,
    )


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` well-formed but fake 11-digit mobile numbers (a real operator prefix and eight digits)."""
    prefix = PHONE_PREFIXES[rng.integers(0, len(PHONE_PREFIXES), n)].astype(np.int64)
    number = prefix * 100_000_000 + rng.integers(0, 100_000_000, n)
    return np.array([str(v) for v in number.tolist()], dtype=object)


def chinese_numeral(k: int) -> str:
    """1 → 一, 12 → 十二, 25 → 二十五 (enough for grid and building names)."""
    if k <= 10:
        return NUMERALS[k - 1]
    tens, ones = divmod(k, 10)
    head = "" if tens == 1 else NUMERALS[tens - 1]
    return head + "十" + (NUMERALS[ones - 1] if ones else "")


def community_names(rng: np.random.Generator, n: int) -> list[str]:
    """`n` distinct community names (a numbered suffix once the word list runs out)."""
    order = rng.permutation(len(COMMUNITY_WORDS))
    out = []
    for i in range(n):
        word = COMMUNITY_WORDS[order[i % len(order)]]
        out.append(f"{word}社区" if i < len(order) else f"{word}{chinese_numeral(i // len(order) + 1)}社区")
    return out


def compound_name(rng: np.random.Generator, old: bool, used: set) -> str:
    """A plausible, unused compound name: a work-unit dormitory for old compounds, an estate name for new ones."""
    for attempt in range(1000):
        if old:
            name = OLD_COMPOUND[rng.integers(len(OLD_COMPOUND))]
        else:
            name = NEW_PREFIX[rng.integers(len(NEW_PREFIX))] + NEW_SUFFIX[rng.integers(len(NEW_SUFFIX))]
        if attempt > 20:
            name += f"{chinese_numeral(attempt // 20 + 1)}区"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of compound names")
