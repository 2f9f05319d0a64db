"use strict";
// What the dashboard shows: one chart per entry, drawn from one published table.
// category: the dimension along the chart; filters: the other dimensions, chosen with a
// select each (the first default is the latest value, "ALL" where a total exists);
// series: the measures drawn side by side for each category.

const RATE = { max: 100, unit: "%" };
const RATING = { max: 10, unit: "" };

const VIEWS = [
  {
    id: "care-leavers-ratings", section: "Care leavers",
    title: "Pathway plan domains: the young person's and the adviser's ratings (0-10)",
    aggregate: "care_leavers", table: "domain_ratings", category: "domain",
    filters: ["period", "area"], scale: RATING, statements: true,
    series: [
      { measure: "young_person_mean_rating", label: "Young person", cls: "s0" },
      { measure: "adviser_mean_rating", label: "Personal adviser", cls: "s1" },
    ],
    extra: ["young_people", "gap_mean", "young_person_lower_rate"],
  },
  {
    id: "care-leavers-contact", section: "Care leavers",
    title: "Care leavers aged 17-21: in touch, in education, employment or training, suitably accommodated",
    aggregate: "care_leavers", table: "contact_outcomes", category: "age",
    filters: ["period", "area"], scale: RATE,
    series: [
      { measure: "in_touch_rate", label: "In touch", cls: "s0" },
      { measure: "eet_rate", label: "In education, employment or training", cls: "s1" },
      { measure: "suitably_accommodated_rate", label: "Suitably accommodated", cls: "s2" },
    ],
    extra: ["young_people"],
  },
  {
    id: "early-help-voice-note", section: "Early help",
    title: "Early help referrals with a parent's Voice Note before the hub meeting",
    aggregate: "early_help_voice", table: "referrals", category: "month",
    filters: ["area"], scale: RATE,
    series: [{ measure: "voice_note_before_hub_rate", label: "With a Voice Note", cls: "s0" }],
    extra: ["episodes_started", "voice_note_before_hub"],
  },
  {
    id: "early-help-outcomes", section: "Early help",
    title: "Early help re-referral and escalation, with and without a Voice Note",
    aggregate: "early_help_voice", table: "outcomes", category: "voice_note",
    filters: ["period", "area"], scale: RATE,
    series: [
      { measure: "re_referral_rate", label: "Re-referred within 12 months", cls: "s0" },
      { measure: "escalation_rate", label: "Escalated to social care", cls: "s1" },
    ],
    extra: ["episodes_ended", "re_referred_12m", "escalated_to_social_care"],
  },
  {
    id: "early-years-reviews", section: "Early years communication",
    title: "2-2½ year reviews: communication below the cut-off, concerns and families' comments",
    aggregate: "early_years_communication", table: "reviews", category: "area",
    filters: ["year"], scale: RATE,
    series: [
      { measure: "communication_below_cutoff_rate", label: "Below the ASQ-3 cut-off", cls: "s0" },
      { measure: "concern_raised_by_parent_rate", label: "Concern raised by parent", cls: "s1" },
      { measure: "family_comment_recorded_rate", label: "Family added a comment", cls: "s2" },
    ],
    extra: ["children_reviewed", "referred_speech_language"],
  },
  {
    id: "early-years-outcomes", section: "Early years communication",
    title: "EYFSP outcomes by what the 2-year review found",
    aggregate: "early_years_communication", table: "outcomes_by_area",
    category: "communication_at_2", filters: ["academic_year", "area"], scale: RATE,
    series: [
      { measure: "communication_language_expected_rate", label: "Expected in communication and language", cls: "s0" },
      { measure: "good_level_of_development_rate", label: "Good level of development", cls: "s1" },
    ],
    extra: ["children"],
  },
  {
    id: "participation-reviews", section: "Participation and missing voices",
    title: "How children took part in their reviews",
    aggregate: "participation", table: "reviews", category: "age_band",
    filters: ["period", "review_type"], scale: RATE,
    series: [
      { measure: "took_part_rate", label: "Took part (PN1-PN6)", cls: "s0" },
      { measure: "spoke_for_themselves_rate", label: "Spoke for themselves", cls: "s1" },
      { measure: "absent_no_view_rate", label: "Absent without a view", cls: "s2" },
    ],
    extra: ["reviews"],
  },
  {
    id: "participation-missing-voice", section: "Participation and missing voices",
    title: "Moments where no child's or family's voice was recorded",
    aggregate: "participation", table: "missing_voice", category: "service",
    filters: ["period", "age_band"], scale: RATE,
    series: [{ measure: "without_voice_rate", label: "Without a voice recorded", cls: "s0" }],
    extra: ["events", "without_voice"],
  },
  {
    id: "information-map", section: "Information map",
    title: "What information reaches strategic reporting",
    aggregate: "information_map", table: "collected", category: "event_type",
    filters: ["category", "voice_bearing"], scale: RATE,
    series: [{ measure: "strategic_reporting_rate", label: "Reaches strategic reporting", cls: "s0" }],
    extra: ["events_collected"], annotations: true,
  },
  {
    id: "referrals-by-source", section: "Referrals",
    title: "Referrals to children's social care by source",
    aggregate: "referrals_by_source", table: "referrals_by_source", category: "referral_source",
    filters: ["month"], scale: { max: null, unit: "" },
    series: [{ measure: "referrals", label: "Referrals", cls: "s0" }],
    extra: [],
  },
];

const REASONS = {
  SMALL_COUNT: "a small count: so few children or records could identify someone",
  SECONDARY: "withheld so that another suppressed value cannot be worked out from it",
  SMALL_DENOMINATOR: "too few children or records to publish a rate or a mean",
  FOLLOWS_SUPPRESSED: "a count it is worked out from is suppressed",
  NOT_PUBLISHABLE: "a kind of figure that is never published",
};

function suppressionText(m) {
  const why = REASONS[m.suppression] || "withheld by disclosure control";
  return `Suppressed: ${why}${m.note ? ` (${m.note})` : ""}.`;
}

function humanise(text) {
  return String(text).replace(/_/g, " ").toLowerCase().replace(/^./, (c) => c.toUpperCase());
}

function formatValue(m, scale) {
  if (m.status === "SUPPRESSED") return "suppressed";
  if (m.value === null || m.value === undefined) return "no value";
  if (m.kind === "RATE") return `${Math.round(m.value)}%`;
  if (m.kind === "MEAN") return m.value.toFixed(1);
  return String(Math.round(m.value)) + (scale && scale.unit ? scale.unit : "");
}
