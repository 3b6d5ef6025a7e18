use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{Mode, Type};

use super::ParseError;

/// A mobile phone number in E.164 (`+31612345678`), parsed with the tenant's default region so
/// `06 12345678` works in the Netherlands. Premium, toll-free and fixed-line numbers are refused:
/// a code must reach a phone in the person's hand, and must not cost anyone money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber {
    e164: String,
    country: String,
    national_significant: String,
}

impl PhoneNumber {
    pub fn parse(input: &str, default_region: &str) -> Result<Self, ParseError> {
        let refuse = || ParseError(format!("{input:?} is not a mobile phone number"));
        let region = Id::from_str(&default_region.to_ascii_uppercase()).ok();
        let number = phonenumber::parse(region, input.trim()).map_err(|_| refuse())?;
        if !phonenumber::is_valid(&number) {
            return Err(refuse());
        }
        match number.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile | Type::FixedLineOrMobile => {}
            _ => return Err(refuse()),
        }
        let country = number.country().id().map(|id| id.as_ref().to_string()).ok_or_else(refuse)?;
        Ok(Self {
            e164: number.format().mode(Mode::E164).to_string(),
            national_significant: number.national().value().to_string(),
            country,
        })
    }

    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// ISO 3166 region of the number (`NL`).
    pub fn country(&self) -> &str {
        &self.country
    }

    /// `+31 6 •••• ••78`: enough to recognise one's own number, not enough to learn it.
    pub fn masked(&self) -> String {
        let code = &self.e164[..self.e164.len() - self.national_significant.len()];
        let digits: Vec<char> = self.national_significant.chars().collect();
        let (first, rest) = digits.split_first().map(|(f, r)| (*f, r)).unwrap_or(('•', &[]));
        let visible_from = rest.len().saturating_sub(2);
        let hidden: String =
            rest.iter().enumerate().map(|(i, d)| if i >= visible_from { *d } else { '•' }).collect();
        let grouped: Vec<String> =
            hidden.chars().collect::<Vec<_>>().chunks(4).map(|c| c.iter().collect()).collect();
        format!("{code} {first} {}", grouped.join(" "))
    }

    /// The last two digits, which the SMS step shows.
    pub fn last_two(&self) -> &str {
        &self.e164[self.e164.len().saturating_sub(2)..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_numbers_in_national_and_international_form() {
        let national = PhoneNumber::parse("06 12345678", "NL").unwrap();
        assert_eq!(national.e164(), "+31612345678");
        assert_eq!(national.country(), "NL");
        assert_eq!(PhoneNumber::parse("+31 6 1234 5678", "BE").unwrap(), national);
        assert_eq!(national.masked(), "+31 6 •••• ••78");
        assert_eq!(national.last_two(), "78");
    }

    #[test]
    fn refuses_what_is_not_a_mobile() {
        for bad in ["", "hello", "06 1234", "020 123 4567", "0900 1234567", "0800 1234567"] {
            assert!(PhoneNumber::parse(bad, "NL").is_err(), "{bad}");
        }
    }
}
