//! Quotas on the wire: the `Quota` message the API answers with and `quota_set` carries.

use crm_platform::{
    money::{CurrencyCode, Money, fixed},
    time::to_timestamp,
};
use crm_proto::crm::forecasting::v1::{self as pb, resolved_scope, target_value};
use rust_decimal::Decimal;

use crate::{
    domain::{
        quota::Holder,
        target::{Measure, TargetKind},
    },
    store::quotas::StoredQuota,
};

pub fn holder(holder: &Holder) -> pb::ResolvedScope {
    pb::ResolvedScope {
        of: Some(match holder {
            Holder::Company => resolved_scope::Of::Company(true),
            Holder::Team(team) => resolved_scope::Of::TeamPath(team.as_str().to_owned()),
            Holder::Rep(user_id) => resolved_scope::Of::UserId(user_id.to_string()),
        }),
    }
}

pub fn kind(kind: TargetKind) -> pb::TargetKind {
    match kind {
        TargetKind::Revenue => pb::TargetKind::Revenue,
        TargetKind::CallsPerWeek => pb::TargetKind::CallsPerWeek,
        TargetKind::MeetingsPerWeek => pb::TargetKind::MeetingsPerWeek,
        TargetKind::VisitsPerWeek => pb::TargetKind::VisitsPerWeek,
        TargetKind::NewAccounts => pb::TargetKind::NewAccounts,
        TargetKind::AverageDealSize => pb::TargetKind::AverageDealSize,
        TargetKind::Growth => pb::TargetKind::Growth,
    }
}

pub fn kind_from_wire(value: i32) -> Option<TargetKind> {
    TargetKind::ALL
        .into_iter()
        .find(|candidate| kind(*candidate) as i32 == value)
}

/// A figure of `kind`: money in `currency` (absent without one) rounded to its minor unit,
/// or a plain value at the kind's decimals.
pub fn value(
    of: TargetKind,
    currency: Option<CurrencyCode>,
    figure: Decimal,
) -> Option<pb::TargetValue> {
    let of = match of.measure() {
        Measure::Money => {
            let currency = currency?;
            target_value::Of::Amount(
                Money {
                    currency,
                    amount: fixed(figure, currency.minor_units()),
                }
                .to_message(),
            )
        }
        Measure::Count | Measure::Percent => {
            target_value::Of::Value(fixed(figure, of.places(0)).normalize().to_string())
        }
    };
    Some(pb::TargetValue { of: Some(of) })
}

pub fn quota(quota: &StoredQuota) -> pb::Quota {
    pb::Quota {
        quota_id: quota.id.to_string(),
        holder: Some(holder(&quota.holder)),
        holder_team_path: quota
            .holder_team_path
            .as_ref()
            .map(|team| team.as_str().to_owned())
            .unwrap_or_default(),
        kind: kind(quota.kind) as i32,
        period: Some(pb::FiscalPeriod {
            label: quota.period_label.clone(),
            start_date: quota.period_start.to_string(),
            end_date: quota
                .period_end
                .pred_opt()
                .unwrap_or(quota.period_end)
                .to_string(),
        }),
        target: value(quota.kind, quota.currency, quota.target),
        version: u64::try_from(quota.version).unwrap_or_default(),
        set_by: quota.set_by.to_string(),
        set_at: Some(to_timestamp(quota.set_at)),
    }
}
