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
    ] + notification_settings()


def notification_settings():
    """The notify.* settings (models.notifications reads and checks them)."""
    from .notifications import NOTIFY_DEFAULTS as d
    return [
        ("notify.due_soon_percents", d["notify.due_soon_percents"],
         "到期提醒：环节时限用去百分之几时提醒负责人 / remind the owner when these percentages of a stage's time are used"),
        ("notify.due_soon_minutes_left", d["notify.due_soon_minutes_left"],
         "到期提醒：还剩几分钟时再提醒一次（0 为不提醒）/ remind again with this many minutes left (0: no)"),
        ("notify.escalation_delay_minutes", d["notify.escalation_delay_minutes"],
         "超时多少分钟后升级并通知服务总监 / minutes after the deadline before escalating to the service director"),
        ("notify.weekly_report_weekday", d["notify.weekly_report_weekday"],
         "周报发送日（1=周一 … 7=周日）/ weekly report day (1 = Monday … 7 = Sunday)"),
        ("notify.weekly_report_time", d["notify.weekly_report_time"], "周报发送时间 / weekly report time (HH:MM)"),
        ("notify.monthly_report_day", d["notify.monthly_report_day"],
         "月报（上月）发送日 / monthly report (the month before) day of the month"),
        ("notify.monthly_report_time", d["notify.monthly_report_time"], "月报发送时间 / monthly report time (HH:MM)"),
        ("notify.callback_reminder_time", d["notify.callback_reminder_time"],
         "每天提醒明日到期回访的时间 / daily time of the reminder about callbacks due tomorrow"),
        ("notify.invitation_reminder_days", d["notify.invitation_reminder_days"],
         "邀请送达几天后仍未答卷则提醒一次（0 为不提醒）/ days after delivery before the one reminder (0: none)"),
        ("notify.invitations_per_minute", d["notify.invitations_per_minute"],
         "调查邀请每分钟最多发送数 / survey invitations sent per minute at most"),
        ("notify.sms_gateway_url", d["notify.sms_gateway_url"],
         "短信网关地址（空为不发短信）/ SMS gateway address (empty: no SMS)"),
        ("notify.sms_gateway_body", d["notify.sms_gateway_body"],
         "短信网关请求体 JSON，可用 {mobile} {text} {key} / SMS gateway JSON body with {mobile} {text} {key}"),
        ("notify.sms_signature", d["notify.sms_signature"], "短信签名 / SMS signature"),
        ("notify.max_attempts", d["notify.max_attempts"], "每条消息最多发送尝试次数 / delivery attempts per message"),
        ("notify.retry_base_seconds", d["notify.retry_base_seconds"],
         "首次重试等待秒数，之后每次加倍 / seconds before the first retry, doubled each time"),
    ]


def ensure_default_settings():
    """Add the settings that are missing (existing values are kept). Returns the keys added."""
    added = []
    for key, value, description in default_settings():
        if not Setting.select().where(Setting.key == key).exists():
            Setting.set_value(key, value, description)
            added.append(key)
    return added
