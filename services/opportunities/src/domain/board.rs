//! The priority board (O9): which open deals deserve attention first. A deal's score is a
//! weighted mean of four parts, each 0..=1 — how likely it closes, how large it is against the
//! organisation's scale, how close its close date is, and how long it has gone without an
//! activity past its pipeline's wait (O7's stale deals) — so a rep sees both the ranking and
//! why (each part with its points and a text for people), with the formula in words beside it.

use chrono::NaiveDate;
use crm_platform::{
    money::{CurrencyCode, fixed},
    text::LocalizableText,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::settings::BoardSettings;

/// Decimals of a part's value on the wire.
const VALUE_PLACES: u32 = 4;
/// Decimals of points and scores on the wire.
const POINTS_PLACES: u32 = 2;

/// The codes of the score parts' texts (docs/api.md, "AnalyticsService").
pub mod text_codes {
    /// "probability {probability}%". `probability` (0..=100).
    pub const PROBABILITY: &str = "opportunities.board.probability";
    /// "{currency} {amount} of a {amount_scale} scale" (amounts grouped in the English).
    /// `currency`, `amount` (the corporate amount), `amount_scale` (the setting).
    pub const AMOUNT: &str = "opportunities.board.amount";
    /// "no amount in the corporate currency" (no corporate currency, or no rate). No parameters.
    pub const AMOUNT_MISSING: &str = "opportunities.board.amount_missing";
    /// "closes in {days} days of a {horizon_days}-day horizon" (`1 day`). `days`, `horizon_days`.
    pub const CLOSENESS: &str = "opportunities.board.closeness";
    /// "closes today", or "{days_overdue} days past its close date" (`1 day`). `days_overdue`.
    pub const CLOSENESS_DUE: &str = "opportunities.board.closeness_due";
    /// "no activity for {days} days (stale after {stale_after_days})" (`1 day`): a stale deal.
    /// `days`, `stale_after_days`.
    pub const STALENESS: &str = "opportunities.board.staleness";
    /// "last activity today" or "last activity {days} days ago" (`1 day`), then
    /// " (stale after {stale_after_days})": not stale yet. `days`, `stale_after_days`.
    pub const STALENESS_RECENT: &str = "opportunities.board.staleness_recent";
    /// "its pipeline's deals never go stale" (`stale_after_days` 0). No parameters.
    pub const STALENESS_NEVER: &str = "opportunities.board.staleness_never";
}

/// w_p + w_a + w_c + w_s (never 0: the settings refuse all-zero weights).
fn total_weight(settings: &BoardSettings) -> Decimal {
    Decimal::from(
        settings.probability_weight
            + settings.amount_weight
            + settings.closeness_weight
            + settings.staleness_weight,
    )
}

/// What the score of an open deal is made of: the few columns the board reads for every deal
/// in scope (a rep may have thousands), before it loads the top ones whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardCandidate {
    pub id: Uuid,
    /// 0..=100.
    pub effective_probability: u8,
    /// In the corporate currency; `None` without one or without a rate.
    pub corporate_amount: Option<Decimal>,
    pub expected_close_date: NaiveDate,
    /// Whole days since the deal's last activity (`stale::days_without_activity`).
    pub days_without_activity: u32,
    /// Its pipeline's wait before a deal goes stale; 0: never.
    pub stale_after_days: u32,
}

/// A deal's score and its parts, unrounded (the ranking uses these; the wire rounds them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorityScore {
    /// 0..=100.
    pub score: Decimal,
    /// P = effective probability / 100.
    pub probability: Decimal,
    /// A = min(1, corporate amount / amount scale), 0 without a corporate amount.
    pub amount: Decimal,
    /// C = 1 when the close date is `as_of` or past, else max(0, 1 − days until / horizon).
    pub closeness: Decimal,
    /// S = 0 before the deal goes stale (or when its pipeline's never do), else
    /// min(1, days without activity / (2 × stale after days)).
    pub staleness: Decimal,
}

/// score = 100 × (w_p·P + w_a·A + w_c·C + w_s·S) / (w_p + w_a + w_c + w_s), measured on
/// `as_of` (the days without activity are the candidate's, counted to the same moment).
pub fn score(
    candidate: &BoardCandidate,
    as_of: NaiveDate,
    settings: &BoardSettings,
) -> PriorityScore {
    let probability = Decimal::from(candidate.effective_probability) / Decimal::ONE_HUNDRED;
    let amount = amount_part(candidate.corporate_amount, settings.amount_scale);
    let closeness = closeness_part(
        candidate.expected_close_date,
        as_of,
        settings.close_horizon_days,
    );
    let staleness = staleness_part(candidate.days_without_activity, candidate.stale_after_days);
    let weighted = Decimal::from(settings.probability_weight) * probability
        + Decimal::from(settings.amount_weight) * amount
        + Decimal::from(settings.closeness_weight) * closeness
        + Decimal::from(settings.staleness_weight) * staleness;
    PriorityScore {
        score: Decimal::ONE_HUNDRED * weighted / total_weight(settings),
        probability,
        amount,
        closeness,
        staleness,
    }
}

/// The step at `stale_after_days` is deliberate: the day a deal goes stale is the day its
/// owner is told (`opportunity_went_stale`), and the day the board lifts it — by half its
/// part at once, the rest over as many days again.
fn staleness_part(days_without_activity: u32, stale_after_days: u32) -> Decimal {
    if stale_after_days == 0 || days_without_activity < stale_after_days {
        return Decimal::ZERO;
    }
    let full_at = 2 * u64::from(stale_after_days);
    if u64::from(days_without_activity) >= full_at {
        return Decimal::ONE;
    }
    Decimal::from(days_without_activity) / Decimal::from(full_at)
}

fn amount_part(corporate_amount: Option<Decimal>, scale: Decimal) -> Decimal {
    match corporate_amount {
        // Compared before dividing: a huge amount over a tiny scale would overflow a Decimal.
        Some(amount) if amount >= scale => Decimal::ONE,
        Some(amount) if amount > Decimal::ZERO => amount / scale,
        _ => Decimal::ZERO,
    }
}

fn closeness_part(close: NaiveDate, as_of: NaiveDate, horizon_days: u32) -> Decimal {
    let days_until = (close - as_of).num_days();
    if days_until <= 0 {
        return Decimal::ONE;
    }
    let horizon = Decimal::from(horizon_days.max(1));
    (Decimal::ONE - Decimal::from(days_until) / horizon).max(Decimal::ZERO)
}

/// The candidates with their scores, best first: by unrounded score, then the earlier expected
/// close date, then the id (so equal deals keep one order from call to call).
pub fn rank(
    candidates: &[BoardCandidate],
    as_of: NaiveDate,
    settings: &BoardSettings,
) -> Vec<(BoardCandidate, PriorityScore)> {
    let mut ranked: Vec<(BoardCandidate, PriorityScore)> = candidates
        .iter()
        .map(|candidate| (*candidate, score(candidate, as_of, settings)))
        .collect();
    ranked.sort_by(|(a, a_score), (b, b_score)| {
        b_score
            .score
            .cmp(&a_score.score)
            .then(a.expected_close_date.cmp(&b.expected_close_date))
            .then(a.id.cmp(&b.id))
    });
    ranked
}

/// The score as the wire shows it: two decimals, half away from zero.
pub fn rounded_score(score: &PriorityScore) -> Decimal {
    fixed(score.score, POINTS_PLACES)
}

/// One part of a score as the board shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorePart {
    /// "probability", "amount", "closeness", "staleness".
    pub name: &'static str,
    /// 0..=1, four decimals.
    pub value: Decimal,
    pub weight: u32,
    /// 100 × weight × value / total weight (of the unrounded value), two decimals.
    pub points: Decimal,
    pub explanation: LocalizableText,
}

/// The four parts of `candidate`'s score with their texts; `currency` is the corporate
/// currency its amount is in.
pub fn explain(
    candidate: &BoardCandidate,
    currency: Option<CurrencyCode>,
    as_of: NaiveDate,
    settings: &BoardSettings,
) -> Vec<ScorePart> {
    let score = score(candidate, as_of, settings);
    let total = total_weight(settings);
    let part = |name, value: Decimal, weight: u32, explanation| ScorePart {
        name,
        value: fixed(value, VALUE_PLACES),
        weight,
        points: fixed(
            Decimal::ONE_HUNDRED * Decimal::from(weight) * value / total,
            POINTS_PLACES,
        ),
        explanation,
    };
    vec![
        part(
            "probability",
            score.probability,
            settings.probability_weight,
            probability_text(candidate.effective_probability),
        ),
        part(
            "amount",
            score.amount,
            settings.amount_weight,
            amount_text(candidate.corporate_amount, currency, settings.amount_scale),
        ),
        part(
            "closeness",
            score.closeness,
            settings.closeness_weight,
            closeness_text(
                candidate.expected_close_date,
                as_of,
                settings.close_horizon_days,
            ),
        ),
        part(
            "staleness",
            score.staleness,
            settings.staleness_weight,
            staleness_text(candidate.days_without_activity, candidate.stale_after_days),
        ),
    ]
}

fn probability_text(probability: u8) -> LocalizableText {
    LocalizableText::new(
        text_codes::PROBABILITY,
        format!("probability {probability}%"),
    )
    .param("probability", probability)
}

fn amount_text(
    corporate_amount: Option<Decimal>,
    currency: Option<CurrencyCode>,
    scale: Decimal,
) -> LocalizableText {
    let Some(amount) = corporate_amount else {
        return LocalizableText::new(
            text_codes::AMOUNT_MISSING,
            "no amount in the corporate currency",
        );
    };
    let places = currency.map_or(2, |currency| currency.minor_units());
    let amount = fixed(amount, places);
    let code = currency
        .map(|currency| currency.to_string())
        .unwrap_or_default();
    LocalizableText::new(
        text_codes::AMOUNT,
        format!(
            "{code} {} of a {} scale",
            grouped(amount),
            grouped(fixed(scale, places))
        )
        .trim_start()
        .to_owned(),
    )
    .param("currency", &code)
    .param("amount", amount)
    .param("amount_scale", scale.normalize())
}

fn closeness_text(close: NaiveDate, as_of: NaiveDate, horizon_days: u32) -> LocalizableText {
    let days_until = (close - as_of).num_days();
    if days_until <= 0 {
        let overdue = -days_until;
        let english = match overdue {
            0 => "closes today".to_owned(),
            days => format!("{} past its close date", day_count(days)),
        };
        return LocalizableText::new(text_codes::CLOSENESS_DUE, english)
            .param("days_overdue", overdue);
    }
    LocalizableText::new(
        text_codes::CLOSENESS,
        format!(
            "closes in {} of a {horizon_days}-day horizon",
            day_count(days_until)
        ),
    )
    .param("days", days_until)
    .param("horizon_days", horizon_days)
}

fn staleness_text(days: u32, stale_after_days: u32) -> LocalizableText {
    if stale_after_days == 0 {
        return LocalizableText::new(
            text_codes::STALENESS_NEVER,
            "its pipeline's deals never go stale",
        );
    }
    let (code, english) = match days {
        days if days >= stale_after_days => (
            text_codes::STALENESS,
            format!("no activity for {}", day_count(days.into())),
        ),
        0 => (
            text_codes::STALENESS_RECENT,
            "last activity today".to_owned(),
        ),
        days => (
            text_codes::STALENESS_RECENT,
            format!("last activity {} ago", day_count(days.into())),
        ),
    };
    LocalizableText::new(code, format!("{english} (stale after {stale_after_days})"))
        .param("days", days)
        .param("stale_after_days", stale_after_days)
}

/// "1 day", "2 days".
fn day_count(days: i64) -> String {
    if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    }
}

/// `1200000.00` as `1,200,000.00`: how the English texts write amounts.
fn grouped(value: Decimal) -> String {
    let text = value.to_string();
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let mut groups = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            groups.push(',');
        }
        groups.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{groups}.{fraction}"),
        None => format!("{sign}{groups}"),
    }
}

/// The formula in words with the settings' values in it (GetPriorityBoardResponse.formula).
pub fn formula(settings: &BoardSettings) -> String {
    format!(
        "score = 100 × ({wp} × probability + {wa} × amount + {wc} × closeness + {ws} × \
         staleness) / {total}, where probability = effective probability / 100; amount = min(1, \
         corporate amount / {scale}), 0 without a corporate amount; closeness = 1 when the \
         expected close date is today or past, else max(0, 1 − days until close / {horizon}); \
         staleness = 0 until the deal has gone without activity for its pipeline's stale-after \
         days (never when those are 0), then min(1, days without activity / (2 × stale-after \
         days))",
        wp = settings.probability_weight,
        wa = settings.amount_weight,
        wc = settings.closeness_weight,
        ws = settings.staleness_weight,
        total = total_weight(settings),
        scale = settings.amount_scale.normalize(),
        horizon = settings.close_horizon_days,
    )
}

#[cfg(test)]
#[path = "board_tests.rs"]
mod tests;
