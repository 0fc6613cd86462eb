"""Compounds (小区): who manages them (物业状态) is the colour that matters most."""

from twin.schema import Field, Schema
from twin.vocab import PROPERTY_STATES

from .base import LayerKind

KIND = LayerKind(
    name="compounds",
    title_zh="小区",
    title_en="Compounds",
    load_order=20,
    schema=Schema(
        id_field="compound_id",
        geometry="Polygon",
        fields=(
            Field("compound_id", zh="小区编号", en="Compound id"),
            Field("name", zh="小区名称", en="Name"),
            Field("community_id", pattern=r"\d{12}", zh="所属社区", en="Community"),
            Field("state", choices=tuple(PROPERTY_STATES), zh="物业状态", en="Property management"),
            Field("build_year", "int", min=1900, max=2100, zh="建成年份", en="Build year"),
            Field("has_owners_committee", "bool", zh="业委会", en="Owners' committee"),
            Field("has_party_branch", "bool", required=False, zh="党支部", en="Party branch"),
            Field("property_company", required=False, zh="物业企业", en="Property company"),
            Field(
                "assessment_score", "float", required=False, min=0, max=100, zh="物业考核得分", en="Assessment score"
            ),
            Field("fee_yuan_month", "float", required=False, min=0, zh="物业费(元/月)", en="Fee (yuan/month)"),
        ),
    ),
    styles={"state": {code: {"zh": zh, "en": en} for code, (zh, en) in PROPERTY_STATES.items()}},
)
