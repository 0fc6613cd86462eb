"""Incidents and work orders (事件/工单): live, kept in the incident store, placed on arrival."""

from twin.schema import Field, Schema
from twin.vocab import ESCALATION_LEVELS, INCIDENT_CATEGORIES, INCIDENT_SOURCES, INCIDENT_STAGES

from .base import LayerKind

KIND = LayerKind(
    name="incidents",
    title_zh="事件工单",
    title_en="Incidents",
    load_order=60,
    live=True,
    live_service="twin.incidents:attach_incidents",
    time_field="reported_at",
    schema=Schema(
        id_field="incident_id",
        geometry="Point",
        fields=(
            Field("incident_id", zh="工单编号", en="Incident id"),
            Field("category", choices=tuple(INCIDENT_CATEGORIES), zh="类别", en="Category"),
            Field("source", choices=tuple(INCIDENT_SOURCES), zh="来源", en="Source"),
            Field("description", required=False, zh="描述", en="Description"),
            Field("stage", choices=tuple(INCIDENT_STAGES), zh="环节", en="Stage"),
            Field("level", choices=tuple(ESCALATION_LEVELS), zh="处置层级", en="Level"),
            Field("priority", "int", min=0, max=9, zh="优先级", en="Priority"),
            Field("reported_at", "datetime", zh="上报时间", en="Reported at"),
            Field("accepted_at", "datetime", required=False, zh="受理时间", en="Accepted at"),
            Field("on_site_at", "datetime", required=False, zh="到场时间", en="On site at"),
            Field("resolved_at", "datetime", required=False, zh="办结时间", en="Resolved at"),
            Field("closed_at", "datetime", required=False, zh="关闭时间", en="Closed at"),
            Field("rating", "int", required=False, min=1, max=5, zh="满意度", en="Rating"),
            Field("grid_code", required=False, zh="网格", en="Grid"),
            Field("community_id", required=False, zh="社区", en="Community"),
            Field("compound_id", required=False, zh="小区", en="Compound"),
            Field("building_id", required=False, zh="楼栋", en="Building"),
            Field("household_id", required=False, personal=True, zh="关联住户", en="Household"),
            Field("media_url", required=False, zh="图片", en="Media"),
            Field("contact_name", required=False, personal=True, zh="联系人", en="Contact name"),
            Field("contact_phone", required=False, personal=True, zh="联系电话", en="Contact phone"),
            Field("contact_email", required=False, personal=True, zh="邮箱", en="Contact email"),
        ),
    ),
)
