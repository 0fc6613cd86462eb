"""Buildings (楼栋): footprints extruded by height on the map."""

from twin.schema import Field, Schema
from twin.vocab import BUILDING_USES

from .base import LayerKind

KIND = LayerKind(
    name="buildings",
    title_zh="楼栋",
    title_en="Buildings",
    load_order=30,
    schema=Schema(
        id_field="building_id",
        geometry="Polygon",
        derived=("grid_code", "build_decade"),
        fields=(
            Field("building_id", zh="楼栋编号", en="Building id"),
            Field("name", required=False, zh="楼号", en="Name"),
            Field("compound_id", required=False, zh="所属小区", en="Compound"),
            Field("community_id", pattern=r"\d{12}", zh="所属社区", en="Community"),
            Field("floors", "int", min=1, max=150, zh="层数", en="Floors"),
            Field("height_m", "float", min=1, max=600, zh="高度(米)", en="Height (m)"),
            Field("units", "int", min=1, max=100, zh="单元数", en="Units"),
            Field("households", "int", min=0, max=10000, zh="户数", en="Households"),
            Field("use", choices=tuple(BUILDING_USES), zh="用途", en="Use"),
            Field("build_year", "int", min=1000, max=2100, zh="建成年份", en="Build year"),
            Field("source_id", required=False, zh="来源要素", en="Source feature (of a multi-part footprint)"),
        ),
    ),
)
