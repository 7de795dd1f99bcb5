//! `emotrace ensemble`: joins single networks trained apart (the same config and split,
//! other seeds) into one model whose probabilities are the mean of theirs, as
//! `[model] members = K` does after training. For networks trained on other machines or
//! at other times, e.g. one leave-one-corpus-out network per seed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::model::{ComputeDevice, DeviceChoice, EmotionModel};

/// Flags of `emotrace ensemble`.
#[derive(Debug, clap::Args)]
pub struct EnsembleArgs {
    /// Cards (or weights, or stems) of single networks of one recipe: same features,
    /// normalisation, shape, decision and speaker split.
    #[arg(value_name = "MODEL", num_args = 2..)]
    pub members: Vec<PathBuf>,
    /// Where to write the joined model: `STEM.json` and `STEM.safetensors`.
    #[arg(long, value_name = "STEM")]
    pub out: PathBuf,
}

/// Runs `emotrace ensemble`.
pub fn run(out: &mut impl Write, args: &EnsembleArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let device = ComputeDevice::resolve(device)?;
    let members = args
        .members
        .iter()
        .map(|path| {
            EmotionModel::load(path, device).with_context(|| format!("loading model {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let refs: Vec<&EmotionModel> = members.iter().collect();
    let mut model = EmotionModel::ensemble(&refs, device)?;
    let card = model.card_mut();
    card.name = args.out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    // The first network's scores are not the joined model's; its training is all of theirs.
    card.metrics.clear();
    card.training.train_minutes = members.iter().map(|m| m.card().training.train_minutes).sum();
    card.training.run =
        members.iter().map(|m| m.card().training.run.as_str()).collect::<Vec<_>>().join(" + ");
    card.training.member_seeds =
        members.iter().flat_map(|m| m.card().training.seeds(m.net().members().len())).collect();
    let seeds: Vec<String> = card.training.member_seeds.iter().map(u64::to_string).collect();
    let card_path = model.save(&args.out)?;
    writeln!(
        out,
        "{} networks (seeds {}) joined into {}",
        members.len(),
        seeds.join(", "),
        card_path.display()
    )?;
    Ok(())
}
