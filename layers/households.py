"""Households (住户): personal data; placed at their building, never shown to public or planner callers."""

from twin.schema import Field, Schema

from .base import LayerKind

KIND = LayerKind(
    name="households",
    title_zh="住户",
    title_en="Households",
    load_order=50,
    public=False,
    schema=Schema(
        id_field="household_id",
        geometry="Point",
        placed_by="building_id",
        derived=("grid_code", "community_id", "compound_id"),
        fields=(
            Field("household_id", zh="户编号", en="Household id"),
            Field("building_id", zh="所在楼栋", en="Building"),
            Field("unit", "int", min=1, max=100, zh="单元", en="Unit"),
            Field("floor", "int", min=-5, max=150, zh="楼层", en="Floor"),
            Field("room", zh="门牌", en="Room"),
            Field("size", "int", min=1, max=30, zh="人口", en="Persons"),
            Field("elderly_alone", "bool", zh="独居老人", en="Elderly living alone"),
            Field("floating", "bool", zh="流动人口", en="Floating population"),
            Field("key_group", "bool", required=False, zh="重点人群", en="Key group"),
            Field("name", personal=True, zh="户主姓名", en="Head of household"),
            Field("phone", required=False, personal=True, zh="联系电话", en="Phone"),
        ),
    ),
)
