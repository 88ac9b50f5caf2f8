//! Reading the tools' output and summarising repeated runs.

/// The median of the finite `values` (the mean of the two middle ones for an
/// even count); `None` when there are none. Failed runs are recorded as NaN
/// and so left out.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// The first and third quartiles of the finite `values`: the medians of
/// their lower and upper halves (the middle value of an odd count in
/// neither; one value is both quartiles). `None` when there are none.
pub fn quartiles(values: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return v.first().map(|&x| (x, x));
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let half = v.len() / 2;
    Some((median(&v[..half])?, median(&v[v.len() - half..])?))
}

/// The number in a `<label>: <number> [<unit>]` line of libzmq's output,
/// e.g. `mean throughput: 123 [msg/s]`.
pub fn field(output: &str, label: &str, unit: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        let rest = line.strip_prefix(label)?.strip_prefix(':')?.trim();
        let number = rest.strip_suffix(unit)?.trim_end().strip_suffix('[')?;
        number.trim().parse().ok()
    })
}

/// Messages per second from a throughput tool's output.
pub fn throughput(output: &str) -> Option<f64> {
    field(output, "mean throughput", "msg/s]")
}

/// One-way latency in microseconds from a latency tool's output.
pub fn latency(output: &str) -> Option<f64> {
    field(output, "average latency", "us]")
}

/// The endpoint of an `endpoint: <endpoint>` line.
pub fn endpoint(line: &str) -> Option<&str> {
    line.trim_end().strip_prefix("endpoint: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 1.0, 2.0, 3.0]), Some(2.0));
    }

    #[test]
    fn quartiles_are_the_medians_of_the_halves() {
        assert_eq!(quartiles(&[]), None);
        assert_eq!(quartiles(&[f64::NAN]), None);
        assert_eq!(quartiles(&[2.0]), Some((2.0, 2.0)));
        assert_eq!(quartiles(&[3.0, 1.0]), Some((1.0, 3.0)));
        assert_eq!(quartiles(&[5.0, 1.0, 3.0, 2.0, 4.0]), Some((1.5, 4.5)));
        assert_eq!(quartiles(&[4.0, 1.0, 2.0, 3.0, f64::NAN]), Some((1.5, 3.5)));
    }

    #[test]
    fn parses_libzmq_output() {
        let thr = "message size: 1 [B]\nmessage count: 10\n\
                   mean throughput: 4242 [msg/s]\nmean throughput: 0.034 [Mb/s]\n";
        assert_eq!(throughput(thr), Some(4242.0));
        assert_eq!(latency(thr), None);
        let lat = "message size: 1 [B]\nroundtrip count: 10\naverage latency: 12.500 [us]\n";
        assert_eq!(latency(lat), Some(12.5));
        assert_eq!(
            endpoint("endpoint: tcp://127.0.0.1:5\n"),
            Some("tcp://127.0.0.1:5")
        );
        assert_eq!(endpoint("message size: 1 [B]"), None);
    }
}
