//! `govcred offer create`: store an offer in the issuer's database, print the deep
//! link, and write it as a QR code (PNG and SVG) for the paper letter.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use qrcode::{Color, EcLevel, QrCode};

use crate::{files, CliError, CliResult};

#[derive(Subcommand)]
pub enum OfferCommand {
    /// Create an offer; prints the link, writes offer-<id>.png and .svg.
    Create(CreateArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The issuer configuration (`issuer.toml`).
    #[arg(long)]
    config: PathBuf,
    /// The credential configuration id.
    #[arg(long)]
    config_id: String,
    /// JSON file with the claims (shape per format; see `claims/` written by `serve --init`).
    #[arg(long)]
    claims: PathBuf,
    /// The holder's `wallet_subject_id` (default: a random one).
    #[arg(long)]
    subject: Option<String>,
    /// Directory for the QR code files (default: current directory).
    #[arg(long, default_value = ".")]
    qr_dir: PathBuf,
    /// Make this many offers with the same claims (one link per line), e.g. for a batch
    /// of letters or a load test.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Do not write QR code files.
    #[arg(long)]
    no_qr: bool,
}

/// Pixels per QR module and quiet zone (modules).
const SCALE: usize = 8;
const QUIET: usize = 4;

/// The QR code of `text` as PNG bytes and SVG text.
pub fn qr(text: &str) -> Result<(Vec<u8>, String), CliError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| CliError::input(format!("the offer does not fit in a QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .build();
    let w = code.width();
    let colors = code.to_colors();
    let side = (w + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == Color::Dark {
            let (x, y) = (i % w + QUIET, i / w + QUIET);
            for dy in 0..SCALE {
                let row = (y * SCALE + dy) * side;
                pixels[row + x * SCALE..row + (x + 1) * SCALE].fill(0);
            }
        }
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, side as u32, side as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc
            .write_header()
            .map_err(|e| CliError::input(format!("PNG: {e}")))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| CliError::input(format!("PNG: {e}")))?;
    }
    Ok((png_bytes, svg))
}

fn write_qr(dir: &Path, id: &str, link: &str) -> Result<(PathBuf, PathBuf), CliError> {
    let (png_bytes, svg) = qr(link)?;
    let png_path = dir.join(format!("offer-{id}.png"));
    let svg_path = dir.join(format!("offer-{id}.svg"));
    files::write(&png_path, &png_bytes)?;
    files::write(&svg_path, svg.as_bytes())?;
    Ok((png_path, svg_path))
}

pub fn run(cmd: OfferCommand) -> CliResult {
    match cmd {
        OfferCommand::Create(a) => {
            let (_, engine, _) = crate::serve::issuer::load(&a.config, None)?;
            let claims = files::read_json(&a.claims)?;
            for _ in 0..a.count.max(1) {
                let created =
                    engine.create_offer(&a.config_id, claims.clone(), a.subject.clone())?;
                println!("{}", created.link);
                let qr = if a.no_qr {
                    String::new()
                } else {
                    let (png_path, svg_path) =
                        write_qr(&a.qr_dir, &created.pending.id, &created.link)?;
                    format!("; QR code: {} {}", png_path.display(), svg_path.display())
                };
                eprintln!(
                    "govcred: offer {} for {} (expires {}){qr}",
                    created.pending.id,
                    a.config_id,
                    govcred::datetime::format(created.pending.expires_at),
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
