"""THE GLOSSARY: every figure a manager sees, defined once, computed by one function.

Every surface (dashboard, branch ranking, staff scoreboard, survey analytics, customer
quadrants, the survey list, the weekly and monthly workbooks, `flask sla-check`) calls the
function named here; none computes a figure itself. Modules: periods.py (periods),
base.py (rounding, what counts, filters), complaints.py, satisfaction.py, ranking.py,
quadrants.py, dashboard.py. Every public name is importable from models.reports.

CONVENTIONS
===========

Time. Every timestamp is a naive datetime in office-local time (config TIMEZONE, default
  Asia/Shanghai, see models.clock). A period is a half-open interval [start, end): a week
  starts on Monday 00:00, a month on the 1st 00:00, a quarter on 1 Jan / 1 Apr / 1 Jul /
  1 Oct 00:00; a custom period from day A to day B includes both days: [A 00:00, B+1 00:00).
  So a complaint received Sunday 23:59:59 belongs to that week, one received Monday 00:00:00
  to the next. The weekly report (周报) is the week Monday–Sunday, the monthly report (月报)
  the calendar month (Period, period_of).

Which moment puts a row into a period (the cohort):
  complaints by received_at; survey responses and their answers by submitted_at;
  invitations by sent_at; callbacks by done_at; rewards and penalties by decided_on
  (days start.date() ≤ day < end.date()). Figures about "now" (open, overdue, due soon) are
  counted at the moment the page or workbook is made (clock.now()), for every period alike.

Rounding. Computed exactly from whole counts and sums, then rounded halves away from zero
  (66.65 → 66.7, -14.25 → -14.3): percentages and NPS to 0.1, means to 0.01, composite
  scores to 0.01 (rounded(), percent(), mean()). A workbook cell holds the same rounded value
  (a percentage as the fraction 0.667 shown as 66.7 %).

Empty and small samples. A figure with nothing to divide by is None and is shown as "–"
  titled "No data" (无数据) on pages and as an empty cell in workbooks: never 0 %, never 0.
  Every rate is shown with the count it rests on (stages done, ratings, invitations sent),
  so a rate from 2 answers is seen to be one; it is not hidden or altered. A ranking never
  ranks on nothing: a branch without data for a part of the composite score is listed
  after the ranked branches, without rank, with the note "Not enough data: <parts>" (数据不足).

What counts.
  * Survey responses: only COUNTED responses enter any figure (counted_responses()): a
    submission held for review (models.survey_guard: honeypot, no or reused form page, sent
    too fast, unusual volume from one address or on one link) does not count until a manager
    releases it, and one rejected as not a customer's answer never does, anywhere: CSAT,
    NPS, means, votes, comments, responses received, survey analytics, quadrants, the survey
    list and every workbook sheet. Held submissions are counted apart (survey_overview()).
  * Customers: the placeholder file "匿名问卷客户" that open-link follow-ups were filed
    against before anonymous feedback existed (kept by migration 51 only where somebody had
    worked on such a follow-up) is not a customer (real_customers()): not among a branch's
    customers, never placed in a quadrant.
  * Anonymous feedback (a low score from an open link with nobody to call back,
    models.feedback) counts like any counted response in CSAT, NPS, means and responses
    received, attributed to the branch of its link; it is not a complaint (not in complaints
    received, SLA figures or the complaint lists) and not a customer (not placed in the
    quadrants). It is counted on its own: feedback_counts() (received, still to review). A
    low score WITH a phone number left in the callback block is a follow-up complaint
    against a real customer file of the link's branch, and counts as a complaint.
  * Complaints: every complaint in the register counts in "complaints received", including
    follow-ups the product opened after a low survey score (channel "survey"), so the figure
    equals the complaint list it links to. "Raised by the customer" excludes those
    follow-ups (raised_by_customer()): it is what makes a customer vocal.

Scope filters. branch (a Branch, an id, or a list of ids: a user's branch scope from
  models.scope; an empty list selects nothing): complaints by Complaint.branch; responses by the branch the response
  is attributed to (Response.branch); invitations by the invited customer's branch.
  grade: the customer's grade (responses without a customer drop out). staff: complaints
  by responsible staff, responses by the staff member they are about (Response.staff).
  Per-branch tables list every active branch, and an inactive branch that has data in the
  period, so their rows add up to the office's total.

THE FIGURES
===========

Complaints now (at the moment counted; no period)                        complaints.py
  Open complaints (未结案投诉)  open_by_stage(): complaints not yet closed
      (Complaint.open(), the only "is it open?" test), per stage they wait in.
  Overdue (已超时)  open_by_stage() second number: open complaints whose next deadline
      (due_at, the due time of the stage they wait for) is before now; due exactly now is
      not overdue (Complaint.overdue()).
  Due within 2 h (2小时内到期)  due_soon_count(): open complaints whose next deadline is
      in [now, now + 2 h) (Complaint.due_soon()).
  Surfaces: dashboard cards and "open complaints by stage"; `flask sla-check` lists exactly
  these overdue and due-soon complaints per branch (models.workflow.sla_check).

Complaints in a period (cohort: received_at)                             complaints.py
  Complaints received (收到投诉)  complaints_received(): complaints received in the period
      ("Received today": the calendar day of now).
  Complaints by current stage  complaints_by_stage(): of the complaints received in the
      period, how many are now at each stage, and how many of them are overdue now.
  Complaints by category (投诉类别)  complaints_by_category(): complaints received in the period
      per category, by the stored code (the office's category list, models.choices): every
      active category, and a deactivated one as long as complaints of the period have it.
  SLA compliance (SLA 达标率)  sla_compliance(): for the complaints received in the period,
      per timed stage (acknowledged 1 h, result 24 h, rectification 48 h, callback 72 h by
      default) stages done ON TIME / stages DONE. On time = done at or before the due time
      (exactly at the due second is on time; one second later is late). Done late = done −
      on time. Stages not yet done do not enter this figure. "All stages" pools the four.
  SLA breaches (超时)  sla_breaches(): for the complaints received in the period, a stage
      is breached when it was done late, or when it is not done, its due time has passed
      now and the complaint is open (overdue). Per stage: done late, overdue, breaches (the
      sum); complaints with a breach (at least one stage breached); and
  Breach-free complaints (无超时投诉占比)  = complaints received without any breach /
      complaints received. A second, stricter figure than SLA compliance, with its own name:
      it counts complaints, not stages, and counts overdue stages not yet done.
  Surfaces: dashboard (received, SLA table, by category, trend), branch ranking (page and
  sheet), staff scoreboard (page and sheet), workbook sheets "Complaints by stage",
  "Complaints by category" and "SLA breaches".

Satisfaction (cohort: submitted_at of counted responses)              satisfaction.py
  CSAT  csat(): answers 4 or 5 / answers, over rating (1–5) questions; "mean rating" is
      their mean.
  NPS  nps(): (promoters 9–10 − detractors 0–6) / answers × 100 over score (0–10)
      questions (7–8 are passives); its "mean" is the mean score.
  Responses received (收到答卷)  responses_received(): counted responses submitted.
  Dimension scores  dimension_scores(): per dimension of rating questions: answers, mean, CSAT.
  SERVQUAL gap  servqual_gaps(): per dimension, over answers with both numbers:
      mean expectation, mean perception, gap = mean(perception − expectation).
  Survey analytics  survey_analytics(): one survey's responses, CSAT, NPS, per question
      the distribution (share of each bar = percent of that question's answers),
      respondents, mean and CSAT or NPS, dimension scores, SERVQUAL gaps, latest comments.
  Total score (总分)  total_score(): of one response in the satisfaction table, the sum of
      its rating and score answers.
  Surfaces: dashboard (CSAT, NPS, responses, trend), survey analytics page, ranking
  (CSAT, ratings, NPS), scoreboard (ratings about them, mean, CSAT), workbook sheets
  "Survey summary", "Satisfaction table", "Branch ranking", "Staff scoreboard".

Response rate (回复率; cohort: sent_at of invitations)                 satisfaction.py
  response_rate(): invitations SENT in the period that were answered (whenever) /
      invitations sent in the period. An invitation created but never marked sent counts
      in neither number, even if answered: mark invitations sent when they are handed out.
  survey_response_rates(): the survey list's and survey page's figure, over all time:
      answered / ever sent, with the counted responses ever received.
  Surfaces: dashboard, survey list, survey page, workbook "Survey summary".

Survey analytics index (满意度调查分析)                                   satisfaction.py
  survey_overview(): per survey, for responses submitted in the period: counted responses
      and a weekly sparkline of them (the 12 weeks up to the period's end), CSAT and NPS as
      above, the response rate of its invitations sent in the period, its follow-up
      complaints, its anonymous feedback (received, to review; models.feedback
      .feedback_counts()) and its submissions held for review. Surface: survey analytics index.

Branch ranking (各分公司排名)                                            ranking.py
  branch_ranking(): per listed branch in the period: complaints received; customers =
  its real customer files not marked lost (of the grade if filtered), as they are now;
  complaints per 100 customers; SLA compliance; CSAT and ratings; NPS; and
    complaint score = 100 × (1 − rate / highest rate among the listed branches), rate =
      complaints / customers (exact); 100 for every branch when the highest is 0; 0 for a
      branch with complaints and no customer file; none for a branch with neither;
    score = Σ weight × part / Σ weight over the parts with a positive weight (setting
      "ranking_weights", default SLA 0.4, satisfaction 0.4, complaints 0.2), parts as shown
      (SLA compliance %, CSAT %, complaint score). A branch missing a weighted part has no
      score and no rank: "Not enough data: <parts>".
  Ties: equal scores share a rank ("1, 2, 2, 4"); among them higher SLA compliance, then
  fewer complaints per 100 customers, then the name comes first. Unranked branches follow
  by name. Surfaces: ranking page, workbook "Branch ranking".

Staff scoreboard and service star (服务之星)                             ranking.py
  staff_scoreboard(): per active staff member in the period: votes (answers naming them
  on "pick a staff member" questions), ratings about them / mean / CSAT (rating answers of
  responses about them), complaints (received, them responsible), stages done / on time /
  SLA compliance of those complaints, rewards and penalties decided in the period.
  Candidate for service star: at least one vote and no penalty decided in the period;
  candidates rank by votes (equal votes share a rank), ordered among equal votes by higher
  CSAT (none last), fewer complaints, higher SLA compliance (none last), name.
  models.recognition.approve_service_star refuses anyone who is not a candidate for the
  month or quarter. Surfaces: scoreboard page, workbook "Staff scoreboard".

Customer quadrants (客户四象限)                                         quadrants.py
  customer_quadrants(): real customers over the period.
    satisfaction = the exact mean, on the 1–5 scale, of everything they scored: rating
      answers, callback satisfaction (callbacks done in the period) and score (0–10)
      answers counted half (a 9 is 4.5); satisfied when the mean is 4 or more.
    vocal = they raised a complaint themselves in the period (not a follow-up the product
      opened after a low score) or wrote a free-text comment; else quiet.
    loyal 忠诚者 = satisfied & quiet, praiser 称赞者 = satisfied & vocal, silent protester
    无声抗议者 = dissatisfied & quiet (the call list), complainer 投诉者 = dissatisfied &
    vocal. A customer who complained and scored nothing is a complainer; a customer with no
    score and no complaint is not placed (satisfaction unknown). Surface: quadrants page.
"""
from .base import (CSAT_SATISFIED_MIN, NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, QUADRANT_SATISFIED_MEAN,
                   counted_responses, listed_branches, mean, percent, raised_by_customer, real_customers, rounded)
from .complaints import (complaints_by_category, complaints_by_stage, complaints_received, due_soon_count, no_breaches,
                         no_complaints_by_stage, open_by_stage, sla_breaches, sla_by, sla_compliance, sla_result)
from .dashboard import dashboard_summary, trend
from .periods import (FIRST_DAY, LAST_DAY, PERIOD_KINDS, PERIOD_OF_REPORT, REPORT_KINDS, REPORT_OF_PERIOD, Period,
                      custom_period, day_of, last_periods, parse_period, period_of, period_of_star_label, report_period,
                      report_title)
from .quadrants import QUADRANTS, SATISFIED_AT, customer_quadrants, quadrant_of
from .ranking import (DEFAULT_RANKING_WEIGHTS, RANKING_COLUMNS, RANKING_PARTS, STAFF_COLUMNS, branch_ranking,
                      ranking_note, ranking_weights, staff_scoreboard, star_candidates)
from .satisfaction import (NO_RESPONSE_RATE, NO_SATISFACTION, csat, dimension_scores, nps, response_rate,
                           response_rates, responses_by, responses_received, satisfaction_by, servqual_gaps,
                           survey_analytics, survey_overview, survey_response_rates, total_score)

__all__ = [
    "CSAT_SATISFIED_MIN", "NPS_DETRACTOR_MAX", "NPS_PROMOTER_MIN", "QUADRANT_SATISFIED_MEAN", "counted_responses",
    "listed_branches", "mean", "percent", "raised_by_customer", "real_customers", "rounded",
    "complaints_by_category", "complaints_by_stage", "complaints_received", "due_soon_count", "no_breaches", "no_complaints_by_stage",
    "open_by_stage", "sla_breaches", "sla_by", "sla_compliance", "sla_result",
    "dashboard_summary", "trend",
    "FIRST_DAY", "LAST_DAY", "PERIOD_KINDS", "Period", "custom_period", "day_of", "last_periods", "parse_period", "period_of",
    "period_of_star_label", "PERIOD_OF_REPORT", "REPORT_KINDS", "REPORT_OF_PERIOD", "report_period", "report_title",
    "QUADRANTS", "SATISFIED_AT", "customer_quadrants", "quadrant_of",
    "DEFAULT_RANKING_WEIGHTS", "RANKING_COLUMNS", "RANKING_PARTS", "STAFF_COLUMNS", "branch_ranking",
    "ranking_note", "ranking_weights", "staff_scoreboard", "star_candidates",
    "NO_RESPONSE_RATE", "NO_SATISFACTION", "csat", "dimension_scores", "nps", "response_rate", "response_rates",
    "responses_by", "responses_received", "satisfaction_by", "servqual_gaps", "survey_analytics",
    "survey_overview", "survey_response_rates", "total_score",
]
