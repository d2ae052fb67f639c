//! The formulas of the bill lines, in one place: the bill ([`super::bill`]) uses these, and the
//! optimizer's model takes its terms from them and precomputes the same lines for its hot path
//! (the tests hold the model's costs to the bill), so an optimized cost is the engine's bill.

use super::SimCharge;
use crate::fleet::{Overage, Plan, Pooling};
use crate::money::{Bytes, Money};
use crate::settings::Settings;

/// How an account's bill lines are computed: charge type, currency unit, period length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRules {
    /// Decimals of the currency's minor unit.
    pub decimals: u32,
    /// Whether the monthly rate charge is billed.
    pub bills_rate: bool,
    /// Whether overage is billed.
    pub bills_overage: bool,
    /// Days in the billing period.
    pub period_days: u64,
}

impl LineRules {
    /// The rules of an account.
    pub fn of(settings: &Settings) -> Self {
        LineRules {
            decimals: settings.currency_decimals,
            bills_rate: settings.charge_type.bills_rate(),
            bills_overage: settings.charge_type.bills_overage(),
            period_days: u64::from(settings.period.days()),
        }
    }

    /// A SIM's base line: the monthly charge for `days` of the period (`None` = all of it),
    /// rounded to the minor unit.
    pub fn base(&self, plan: &Plan, days: Option<u16>) -> Money {
        if !self.bills_rate {
            return Money::ZERO;
        }
        let days = days.map_or(self.period_days, u64::from);
        plan.monthly_charge
            .mul_ratio_round(days as i64, self.period_days as i64, self.decimals)
    }

    /// A SIM's allowance for `days` of the period, rounded to the byte.
    pub fn allowance(&self, plan: &Plan, days: Option<u16>) -> Bytes {
        let days = days.map_or(self.period_days, u64::from);
        plan.included.mul_ratio_round(days, self.period_days)
    }

    /// A SIM's SMS line, rounded to the minor unit.
    pub fn sms(&self, plan: &Plan, count: u64) -> Money {
        plan.sms_rate
            .mul_ratio_round(count as i64, 1, self.decimals)
    }

    /// What a SIM of this usage, billed days and SMS count is billed on `plan`: its base, its
    /// SMS and its allowance, and its overage on a plan of its own (on a pooled plan its share
    /// of the pool's, which [`super::bill`] works out over the pool, is left at zero).
    pub fn charge(&self, plan: &Plan, usage: Bytes, days: Option<u16>, sms: u32) -> SimCharge {
        let allowance = self.allowance(plan, days);
        SimCharge {
            base: self.base(plan, days),
            overage: match plan.pooling {
                Pooling::Shared(_) => Money::ZERO,
                Pooling::PerSim => self.overage(plan.overage, usage, allowance),
            },
            sms: self.sms(plan, u64::from(sms)),
            allowance,
        }
    }

    /// The overage line of `usage` against `allowance` (a non-pooled SIM, or a whole pool):
    /// `ceil(max(0, usage − allowance) / block) × rate`, rounded to the minor unit.
    pub fn overage(&self, terms: Option<Overage>, usage: Bytes, allowance: Bytes) -> Money {
        match terms {
            Some(terms) if self.bills_overage => {
                let blocks = terms.blocks(Bytes(usage.0.saturating_sub(allowance.0)));
                terms.rate.mul_ratio_round(blocks as i64, 1, self.decimals)
            }
            _ => Money::ZERO,
        }
    }
}
