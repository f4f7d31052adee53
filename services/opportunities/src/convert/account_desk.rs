//! An account's deal desk, domain → wire: each family's parts through its own mapping.

use crm_platform::money::Money;
use crm_proto::crm::opportunities::v1 as pb;

use super::{activities, collections, expenses, quotes};
use crate::{
    domain::account_desk::{DeskPayment, OpenFigures},
    service::AccountDesk,
};

fn payment(desk: &DeskPayment) -> pb::AccountPayment {
    pb::AccountPayment {
        opportunity_id: desk.opportunity_id.to_string(),
        schedule_id: desk.payment.schedule_id.to_string(),
        payment: Some(collections::payment(desk.currency, &desk.payment)),
    }
}

fn receivables(figures: &OpenFigures) -> pb::AccountReceivables {
    let money = |amount| {
        Some(
            Money {
                currency: figures.currency,
                amount,
            }
            .to_message(),
        )
    };
    pb::AccountReceivables {
        currency_code: figures.currency.to_string(),
        open: money(figures.open),
        overdue: money(figures.overdue),
        open_instalments: figures.open_instalments,
        overdue_instalments: figures.overdue_instalments,
    }
}

pub(crate) fn desk(desk: &AccountDesk) -> pb::AccountDesk {
    pb::AccountDesk {
        account_id: desk.account_id.to_string(),
        as_of: desk.as_of.to_string(),
        quotes: desk.quotes.iter().map(quotes::quote).collect(),
        quotes_truncated: desk.quotes_truncated,
        activities: desk.activities.iter().map(activities::activity).collect(),
        activities_truncated: desk.activities_truncated,
        payments: desk.payments.iter().map(payment).collect(),
        payments_truncated: desk.payments_truncated,
        receivables: desk.receivables.iter().map(receivables).collect(),
        expenses: desk.expenses.iter().map(expenses::expense).collect(),
        expenses_truncated: desk.expenses_truncated,
        expense_summary: Some(expenses::summary(&desk.expense_summary)),
        plans: desk.plans.iter().map(|plan| plan.message()).collect(),
        plans_truncated: desk.plans_truncated,
    }
}
