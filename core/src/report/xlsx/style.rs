//! The report's look: one palette, one set of cell formats, the column widths.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder};

/// Dark blue of titles and header fills.
const NAVY: u32 = 0x1F4E78;
/// The chart's "now" series.
pub(super) const NOW_COLOR: u32 = 0xA5B8CC;
/// The chart's "optimized" series.
pub(super) const AFTER_COLOR: u32 = 0x2E75B6;
const TOTAL_FILL: u32 = 0xDDEBF7;
const SUBTOTAL_FILL: u32 = 0xF2F2F2;
const GROUP_FILL: u32 = 0xBDD7EE;
const CHANGED_FILL: u32 = 0xE2EFDA;
const MUTED: u32 = 0x595959;
const GOOD: u32 = 0x38761D;
const RULE: u32 = 0xBFBFBF;

/// Every cell format the report uses.
pub(super) struct Styles {
    pub title: Format,
    pub subtitle: Format,
    pub section: Format,
    pub label: Format,
    pub note: Format,
    pub header: Format,
    pub header_left: Format,
    pub group: Format,
    pub text_changed: Format,
    pub why: Format,
    pub header_why: Format,
    pub key_saving: Format,
    pub count: Format,
    pub mb: Format,
    pub money: Format,
    pub key_money: Format,
    pub key_count: Format,
    pub key_percent: Format,
    pub key_gap: Format,
    pub key_text: Format,
    pub total: Totals,
    pub subtotal: Totals,
}

/// The formats of one kind of totals row.
pub(super) struct Totals {
    pub label: Format,
    pub count: Format,
    pub mb: Format,
    pub money: Format,
    pub blank: Format,
}

impl Styles {
    /// The formats for a currency with `decimals` decimals.
    pub fn new(decimals: u32) -> Self {
        let money_format = money_format(decimals);
        let count_format = "#,##0";
        let mb_format = "#,##0.00";
        let rule = |f: Format| {
            f.set_border_bottom(FormatBorder::Hair)
                .set_border_bottom_color(Color::RGB(RULE))
        };
        let header = Format::new()
            .set_bold()
            .set_font_color(Color::White)
            .set_background_color(Color::RGB(NAVY))
            .set_text_wrap()
            .set_align(FormatAlign::Right)
            .set_align(FormatAlign::VerticalCenter)
            .set_border_bottom(FormatBorder::Thin)
            .set_border_bottom_color(Color::White);
        let totals = |fill: u32, bottom: FormatBorder| {
            let base = Format::new()
                .set_bold()
                .set_background_color(Color::RGB(fill))
                .set_border_top(FormatBorder::Thin)
                .set_border_top_color(Color::RGB(NAVY))
                .set_border_bottom(bottom)
                .set_border_bottom_color(Color::RGB(NAVY));
            Totals {
                label: base.clone(),
                count: base.clone().set_num_format(count_format),
                mb: base.clone().set_num_format(mb_format),
                money: base.clone().set_num_format(&money_format),
                blank: base,
            }
        };
        let key = Format::new()
            .set_bold()
            .set_font_size(12)
            .set_align(FormatAlign::Right);
        Styles {
            title: Format::new()
                .set_bold()
                .set_font_size(18)
                .set_font_color(Color::RGB(NAVY)),
            subtitle: Format::new().set_font_color(Color::RGB(MUTED)),
            section: Format::new()
                .set_bold()
                .set_font_size(12)
                .set_font_color(Color::RGB(NAVY))
                .set_border_bottom(FormatBorder::Medium)
                .set_border_bottom_color(Color::RGB(NAVY)),
            label: rule(Format::new().set_font_color(Color::RGB(MUTED))),
            note: Format::new().set_italic().set_font_color(Color::RGB(MUTED)),
            header_left: header.clone().set_align(FormatAlign::Left),
            header_why: header.clone().set_align(FormatAlign::Left).set_indent(1),
            why: Format::new().set_indent(1),
            header,
            group: Format::new()
                .set_bold()
                .set_font_color(Color::RGB(NAVY))
                .set_background_color(Color::RGB(GROUP_FILL))
                .set_align(FormatAlign::Center)
                .set_border_bottom(FormatBorder::Thin)
                .set_border_bottom_color(Color::White),
            text_changed: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(CHANGED_FILL)),
            count: Format::new().set_num_format(count_format),
            mb: Format::new().set_num_format(mb_format),
            money: Format::new().set_num_format(&money_format),
            key_money: rule(key.clone().set_num_format(&money_format)),
            key_saving: rule(
                key.clone()
                    .set_num_format(&money_format)
                    .set_font_color(Color::RGB(GOOD)),
            ),
            key_count: rule(key.clone().set_num_format(count_format)),
            key_percent: rule(key.clone().set_num_format("0.0%")),
            key_gap: rule(key.clone().set_num_format("0.000%")),
            key_text: rule(Format::new().set_align(FormatAlign::Right)),
            total: totals(TOTAL_FILL, FormatBorder::Double),
            subtotal: totals(SUBTOTAL_FILL, FormatBorder::None),
        }
    }
}

/// `#,##0.00;[Red]-#,##0.00` with the currency's decimals: thousands separators, negative
/// amounts in red.
fn money_format(decimals: u32) -> String {
    let zeros = "0".repeat(decimals as usize);
    let number = if decimals == 0 {
        "#,##0".to_owned()
    } else {
        format!("#,##0.{zeros}")
    };
    format!("{number};[Red]-{number}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_format_follows_the_currency() {
        assert_eq!(super::money_format(2), "#,##0.00;[Red]-#,##0.00");
        assert_eq!(super::money_format(0), "#,##0;[Red]-#,##0");
        assert_eq!(super::money_format(3), "#,##0.000;[Red]-#,##0.000");
    }
}
