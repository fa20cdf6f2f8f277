//! The report's plots: one SVG per path-selection family, ns/op against
//! path count (see [`plot_family`]).

use crate::analysis::{arch_label, fmt_ns, primary, Row, Stats};
use crate::run::RunFile;
use crate::workloads::Mix;
use std::path::Path;

fn best_ns(s: &Option<Stats>) -> Option<f64> {
    s.as_ref().map(|x| x.median)
}

const COLORS: [(u8, u8, u8); 4] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)];

/// One SVG per family: ns/op (median over rounds) against path count,
/// log-log, single-node workloads; per mix the reference solid with dots,
/// the primary kernel dashed with crosses, a second kernel side dotted
/// with triangles.
pub fn plot_family(run: &RunFile, rows: &[Row], family: &str, path: &Path) -> Result<(), String> {
    use plotters::prelude::*;
    let fam: Vec<&Row> = rows.iter().filter(|r| r.family == family && r.nodes == 1 && r.mix.is_some()).collect();
    let arches = run.kernel_arches();
    let prim = primary(run);
    let mut ys: Vec<f64> = Vec::new();
    for r in &fam {
        ys.extend(best_ns(&r.reference));
        for c in r.kernel.values() {
            ys.extend(best_ns(&c.ns));
        }
    }
    let (ymin, ymax) = if ys.is_empty() { (1.0, 10.0) } else { (ys.iter().cloned().fold(f64::MAX, f64::min), ys.iter().cloned().fold(0.0, f64::max)) };
    let (ymin, ymax) = ((ymin * 0.7).max(0.01), (ymax * 1.4).max(ymin * 2.0));
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let root = SVGBackend::new(path, (960, 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{family}: ns per operation vs path count (1 node), {} rounds", run.rounds.len()), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0.8f64..160f64).log_scale(), (ymin..ymax).log_scale())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("paths")
        .y_desc("ns/op (median over rounds)")
        .x_label_formatter(&|x| format!("{:.0}", x))
        .y_label_formatter(&|y| fmt_ns(*y))
        .draw()
        .map_err(|e| err(&e))?;
    for (mi, mix) in Mix::ALL.iter().enumerate() {
        let (r, g, b) = COLORS[mi];
        let color = RGBColor(r, g, b);
        let pts = |f: &dyn Fn(&Row) -> Option<f64>| {
            let mut v: Vec<(f64, f64)> = fam.iter().filter(|x| x.mix == Some(*mix)).filter_map(|x| f(x).map(|y| (x.paths as f64, y))).collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v
        };
        let refp = pts(&|x: &Row| best_ns(&x.reference));
        if !refp.is_empty() {
            chart
                .draw_series(LineSeries::new(refp.clone(), color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(format!("reference {}", mix.name()))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(refp.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(|e| err(&e))?;
        }
        for a in &arches {
            let kp = pts(&|x: &Row| x.kernel.get(a).and_then(|c| best_ns(&c.ns)));
            if kp.is_empty() {
                continue;
            }
            let label = format!("kernel {} {}", arch_label(run, *a), mix.name());
            if Some(*a) == prim {
                chart.draw_series(DashedLineSeries::new(kp.clone(), 6, 4, color.stroke_width(2))).map_err(|e| err(&e))?.label(label).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (7, 0)], color.stroke_width(2))
                        + PathElement::new(vec![(12, 0), (19, 0)], color.stroke_width(2))
                });
                chart.draw_series(kp.iter().map(|&p| Cross::new(p, 4, color.stroke_width(2)))).map_err(|e| err(&e))?;
            } else {
                chart.draw_series(DashedLineSeries::new(kp.clone(), 2, 4, color.stroke_width(1))).map_err(|e| err(&e))?.label(label).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (2, 0)], color.stroke_width(1))
                        + PathElement::new(vec![(6, 0), (8, 0)], color.stroke_width(1))
                        + PathElement::new(vec![(12, 0), (14, 0)], color.stroke_width(1))
                        + PathElement::new(vec![(18, 0), (20, 0)], color.stroke_width(1))
                });
                chart.draw_series(kp.iter().map(|&p| TriangleMarker::new(p, 4, color.stroke_width(1)))).map_err(|e| err(&e))?;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
