//! The print-ready offer letter of `issue-batch` with `output = "offer"`: one HTML page
//! per person (A4 print CSS, the QR code inline as SVG, the deep link, plain-language
//! steps), in English and optionally Welsh too. HTML rather than PDF: every browser
//! prints it to paper or PDF, and it needs no PDF or font dependency here.

/// What a letter says besides the fixed text.
pub struct Letter<'a> {
    /// The credential's name as people know it ("Veteran Card").
    pub credential: &'a str,
    /// Who the letter is for, if the template names a column for it.
    pub name: Option<&'a str>,
    /// The offer's deep link.
    pub link: &'a str,
    /// The QR code of the link (SVG).
    pub qr_svg: &'a str,
    /// When the code stops working (Unix seconds).
    pub expires_at: i64,
    /// Add the Welsh version after the English one.
    pub welsh: bool,
}

/// Escape text for HTML element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-11-23T17:00:00Z` → `23 November 2026 at 17:00 UTC` (English) or
/// `23 Tachwedd 2026 am 17:00 UTC` (Welsh).
fn human_time(t: i64, welsh: bool) -> String {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const CY: [&str; 12] = [
        "Ionawr",
        "Chwefror",
        "Mawrth",
        "Ebrill",
        "Mai",
        "Mehefin",
        "Gorffennaf",
        "Awst",
        "Medi",
        "Hydref",
        "Tachwedd",
        "Rhagfyr",
    ];
    let s = govcred::datetime::format(t);
    let (date, time) = s.split_once('T').unwrap_or((&s, ""));
    let mut parts = date.splitn(3, '-');
    let (y, m, d) = (
        parts.next().unwrap_or_default(),
        parts
            .next()
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(1),
        parts
            .next()
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(1),
    );
    let month = if welsh { CY } else { EN }[(m.clamp(1, 12)) - 1];
    let hm = time.get(..5).unwrap_or("00:00");
    if welsh {
        format!("{d} {month} {y} am {hm} UTC")
    } else {
        format!("{d} {month} {y} at {hm} UTC")
    }
}

fn section(l: &Letter, welsh: bool) -> String {
    let credential = escape(l.credential);
    let link = escape(l.link);
    let expires = human_time(l.expires_at, welsh);
    let greeting = match (l.name, welsh) {
        (Some(n), false) => format!("Dear {},", escape(n)),
        (Some(n), true) => format!("Annwyl {},", escape(n)),
        (None, false) => "Hello,".into(),
        (None, true) => "Helo,".into(),
    };
    let (lang, title, intro, steps, phone, once, help) = if welsh {
        (
            "cy",
            format!("Ychwanegwch eich {credential} at eich GOV.UK Wallet"),
            format!("Gallwch gadw fersiwn ddigidol o'ch {credential} ar eich ffôn."),
            [
                "Gwnewch yn siŵr bod ap GOV.UK One Login ar eich ffôn a'ch bod wedi mewngofnodi.".to_string(),
                "Sganiwch y cod QR gyda chamera eich ffôn.".to_string(),
                format!("Dilynwch y camau yn yr ap i ychwanegu eich {credential}."),
            ],
            "Os ydych chi'n darllen hwn ar eich ffôn, defnyddiwch y ddolen hon yn lle hynny:",
            format!(
                "Dim ond unwaith y gellir defnyddio'r cod hwn, a bydd yn dod i ben ar {expires}. Peidiwch â'i rannu ag unrhyw un."
            ),
            "Os yw'r cod wedi dod i ben, gofynnwch i ni am un newydd.",
        )
    } else {
        (
            "en",
            format!("Add your {credential} to your GOV.UK Wallet"),
            format!("You can keep a digital version of your {credential} on your phone."),
            [
                "Make sure you have the GOV.UK One Login app on your phone and you are signed in.".to_string(),
                "Scan the QR code with your phone's camera.".to_string(),
                format!("Follow the steps in the app to add your {credential}."),
            ],
            "If you are reading this on your phone, use this link instead:",
            format!("You can only use this code once. It stops working on {expires}. Do not share it with anyone."),
            "If the code has stopped working, ask us for a new one.",
        )
    };
    let steps: String = steps.iter().map(|s| format!("<li>{s}</li>")).collect();
    format!(
        r#"<section class="page" lang="{lang}">
<h1>{title}</h1>
<p>{greeting}</p>
<p>{intro}</p>
<div class="qr">{qr}</div>
<ol>{steps}</ol>
<p>{phone}</p>
<p class="link"><a href="{link}">{link}</a></p>
<p><strong>{once}</strong></p>
<p>{help}</p>
</section>
"#,
        qr = l.qr_svg,
    )
}

/// The whole HTML page: the English letter, then (optionally) the Welsh one on a
/// page of its own.
pub fn html(l: &Letter) -> String {
    let mut body = section(l, false);
    if l.welsh {
        body.push_str(&section(l, true));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
@page {{ size: A4; margin: 20mm; }}
body {{ font-family: Arial, Helvetica, sans-serif; font-size: 12pt; line-height: 1.4; color: #0b0c0c; max-width: 170mm; margin: 0 auto; }}
h1 {{ font-size: 20pt; margin: 0 0 8mm; }}
.qr svg {{ width: 60mm; height: 60mm; display: block; margin: 6mm 0; }}
.link {{ word-break: break-all; font-size: 8pt; }}
.page + .page {{ break-before: page; page-break-before: always; }}
@media print {{ a {{ color: inherit; text-decoration: none; }} }}
</style>
</head>
<body>
{body}</body>
</html>
"#,
        title = escape(&format!("Add your {} to your GOV.UK Wallet", l.credential)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_has_link_qr_and_both_languages() {
        let l = Letter {
            credential: "Veteran Card",
            name: Some("Sam <Smith>"),
            link: "https://mobile.account.gov.uk/wallet/add?credential_offer=%7B%22a%22%7D&x=1",
            qr_svg: "<svg id=\"q\"></svg>",
            expires_at: 1_795_453_200,
            welsh: true,
        };
        let h = html(&l);
        assert!(h.contains("href=\"https://mobile.account.gov.uk/wallet/add?credential_offer=%7B%22a%22%7D&amp;x=1\""));
        assert!(h.contains("<svg id=\"q\"></svg>"));
        assert!(h.contains("Dear Sam &lt;Smith&gt;,"));
        assert!(h.contains("Annwyl Sam &lt;Smith&gt;,"));
        assert!(h.contains("size: A4"));
        assert!(h.contains("lang=\"cy\""));
        assert!(h.contains(&human_time(1_795_453_200, false)));
        assert_eq!(human_time(0, false), "1 January 1970 at 00:00 UTC");
        assert_eq!(human_time(0, true), "1 Ionawr 1970 am 00:00 UTC");
    }
}
