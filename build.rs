//! Turns what zmq-sys found (`DEP_ZMQ_*`) into cfgs, so zmqx knows at compile
//! time which libzmq it links.
//!
//! | cfg               | when                                           |
//! |-------------------|------------------------------------------------|
//! | `zmq_vendored`    | the static libzmq built from `zeromq-src`      |
//! | `zmq_curve`       | CURVE is available (libsodium)                 |
//! | `zmq_draft`       | the linked libzmq has the DRAFT API            |
//! | `zmq_4_3_5`       | libzmq >= 4.3.5                                |

/// libzmq versions that gate features: (cfg, minimum version number).
const VERSION_CFGS: &[(&str, u32)] = &[("zmq_4_3_5", 40305)];

const FLAG_CFGS: &[(&str, &str)] = &[
    ("zmq_vendored", "DEP_ZMQ_VENDORED"),
    ("zmq_curve", "DEP_ZMQ_CURVE"),
    ("zmq_draft", "DEP_ZMQ_DRAFT"),
];

fn main() {
    for (cfg, _) in VERSION_CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    for (cfg, var) in FLAG_CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var(var).as_deref() == Ok("1") {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    println!("cargo::rerun-if-env-changed=DEP_ZMQ_VERSION_NUMBER");
    let number: u32 = std::env::var("DEP_ZMQ_VERSION_NUMBER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for (cfg, min) in VERSION_CFGS {
        if number >= *min {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    let version = std::env::var("DEP_ZMQ_VERSION").unwrap_or_default();
    println!("cargo::rustc-env=ZMQX_LINKED_VERSION={version}");
    println!(
        "cargo::rustc-env=ZMQX_LINKED_SOURCE={}",
        std::env::var("DEP_ZMQ_SOURCE").unwrap_or_default()
    );
}
