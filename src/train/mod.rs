//! Training and evaluation: configuration, batches and the per-frame loss, the training
//! loop with early stopping and checkpoints, metrics, reports and figures, run folders.

pub mod adversary;
pub mod average;
pub mod batch;
pub mod calibration;
pub mod config;
pub mod dataset;
pub mod ensemble;
pub mod evaluate;
pub mod loco;
pub mod metrics;
pub mod plots;
pub mod report;
pub mod run;
pub mod runs;
pub mod sampler;
pub mod scoreboard;
pub mod trainer;

pub use config::TrainConfig;
pub use evaluate::{Evaluation, evaluate};
pub use loco::train_loco;
pub use metrics::{Confusion, Metrics};
pub use run::{TrainOptions, train_fixed, train_folds};
pub use runs::RunDir;
