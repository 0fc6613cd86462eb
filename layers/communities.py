"""Communities (社区): the unit a grid belongs to."""

from twin.schema import Field, Schema

from .base import LayerKind

KIND = LayerKind(
    name="communities",
    title_zh="社区",
    title_en="Communities",
    load_order=10,
    schema=Schema(
        id_field="community_id",
        geometry="Polygon",
        fields=(
            Field("community_id", pattern=r"\d{12}", zh="社区代码", en="Community code"),
            Field("name", zh="社区名称", en="Name"),
            Field("street_name", required=False, zh="街道", en="Street office"),
        ),
    ),
)
