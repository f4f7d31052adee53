//! The priority board (O9): which open deals deserve attention first. A deal's score is a
//! weighted mean of three parts, each 0..=1 — how likely it closes, how large it is against the
//! organisation's scale, and how close its close date is — so a rep sees both the ranking and
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
}

/// w_p + w_a + w_c (never 0: the settings refuse all-zero weights).
fn total_weight(settings: &BoardSettings) -> Decimal {
    Decimal::from(settings.probability_weight + settings.amount_weight + settings.closeness_weight)
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
}

/// score = 100 × (w_p·P + w_a·A + w_c·C) / (w_p + w_a + w_c), measured on `as_of`.
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
    let weighted = Decimal::from(settings.probability_weight) * probability
        + Decimal::from(settings.amount_weight) * amount
        + Decimal::from(settings.closeness_weight) * closeness;
    PriorityScore {
        score: Decimal::ONE_HUNDRED * weighted / total_weight(settings),
        probability,
        amount,
        closeness,
    }
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
    /// "probability", "amount", "closeness".
    pub name: &'static str,
    /// 0..=1, four decimals.
    pub value: Decimal,
    pub weight: u32,
    /// 100 × weight × value / total weight (of the unrounded value), two decimals.
    pub points: Decimal,
    pub explanation: LocalizableText,
}

/// The three parts of `candidate`'s score with their texts; `currency` is the corporate
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
            1 => "1 day past its close date".to_owned(),
            days => format!("{days} days past its close date"),
        };
        return LocalizableText::new(text_codes::CLOSENESS_DUE, english)
            .param("days_overdue", overdue);
    }
    let days = if days_until == 1 {
        "1 day".to_owned()
    } else {
        format!("{days_until} days")
    };
    LocalizableText::new(
        text_codes::CLOSENESS,
        format!("closes in {days} of a {horizon_days}-day horizon"),
    )
    .param("days", days_until)
    .param("horizon_days", horizon_days)
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
        "score = 100 × ({wp} × probability + {wa} × amount + {wc} × closeness) / {total}, where \
         probability = effective probability / 100; amount = min(1, corporate amount / {scale}), \
         0 without a corporate amount; closeness = 1 when the expected close date is today or \
         past, else max(0, 1 − days until close / {horizon})",
        wp = settings.probability_weight,
        wa = settings.amount_weight,
        wc = settings.closeness_weight,
        total = total_weight(settings),
        scale = settings.amount_scale.normalize(),
        horizon = settings.close_horizon_days,
    )
}

#[cfg(test)]
#[path = "board_tests.rs"]
mod tests;
