"""Office-wide settings with their defaults, so the administrator finds every one of them
(with a description) under System → Settings instead of having to know the key."""
from .audit import Setting


def default_settings():
    """[(key, default value, description)]; the defaults live with the code that reads them."""
    from .answers import FOLLOWUP_DEFAULTS
    from .reports import DEFAULT_RANKING_WEIGHTS
    return [
        ("survey.followup_rating_max", FOLLOWUP_DEFAULTS["survey.followup_rating_max"],
         "1-5 分评分题得分不高于此值时自动生成跟进投诉 / a rating (1-5) at or below this opens a follow-up complaint"),
        ("survey.followup_score_max", FOLLOWUP_DEFAULTS["survey.followup_score_max"],
         "0-10 分推荐题得分不高于此值时自动生成跟进投诉 / a score (0-10) at or below this opens a follow-up complaint"),
        ("ranking_weights", DEFAULT_RANKING_WEIGHTS,
         "分公司排名权重：SLA 达标率、满意度、投诉率 / branch ranking weights: SLA, satisfaction, complaints"),
        ("office.name", "",
         "办公室名称，打印在周报、月报和导出表格的页眉上（空：系统名称） / the office's name printed in the page "
         "header of report workbooks and exports (empty: the product's name)"),
    ]


def ensure_default_settings():
    """Add the settings that are missing (existing values are kept). Returns the keys added."""
    added = []
    for key, value, description in default_settings():
        if not Setting.select().where(Setting.key == key).exists():
            Setting.set_value(key, value, description)
            added.append(key)
    return added
