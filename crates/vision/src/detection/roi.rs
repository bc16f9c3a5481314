//! The rotated square region of interest a model looks at, and the mapping
//! between its crop and the frame.

use crate::frame::RgbFrame;

/// A rotated square in frame pixels: centre, side, and rotation (radians,
/// clockwise in image coordinates) that turns the person upright.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roi {
    pub cx: f32,
    pub cy: f32,
    pub size: f32,
    pub rotation: f32,
}

impl Roi {
    /// The whole frame, letterboxed into a square (what the detector sees).
    pub fn letterbox(frame: &RgbFrame<'_>) -> Self {
        Self {
            cx: frame.width as f32 / 2.0,
            cy: frame.height as f32 / 2.0,
            size: frame.width.max(frame.height) as f32,
            rotation: 0.0,
        }
    }

    /// MediaPipe's alignment of a body by two points: centred on `centre`,
    /// turned so that `centre → scale_point` points up, twice their distance
    /// across, then enlarged by `enlarge` (1.25 for BlazePose).
    pub fn aligned(centre: (f32, f32), scale_point: (f32, f32), enlarge: f32) -> Self {
        let (dx, dy) = (scale_point.0 - centre.0, scale_point.1 - centre.1);
        let rotation = normalize_radians(std::f32::consts::FRAC_PI_2 - (-dy).atan2(dx));
        Self {
            cx: centre.0,
            cy: centre.1,
            size: 2.0 * dx.hypot(dy) * enlarge,
            rotation,
        }
    }

    /// A point of the crop, in fractions of its side (0..1), in frame pixels.
    pub fn to_frame(&self, u: f32, v: f32) -> (f32, f32) {
        let (px, py) = ((u - 0.5) * self.size, (v - 0.5) * self.size);
        let (sin, cos) = self.rotation.sin_cos();
        (self.cx + px * cos - py * sin, self.cy + px * sin + py * cos)
    }

    /// Resamples the ROI into an `side × side` RGB crop, values 0..255.
    pub(crate) fn crop(&self, frame: &RgbFrame<'_>, side: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(side * side * 3);
        let step = 1.0 / side as f32;
        for row in 0..side {
            for col in 0..side {
                let (x, y) = self.to_frame((col as f32 + 0.5) * step, (row as f32 + 0.5) * step);
                out.extend_from_slice(&frame.sample(x, y));
            }
        }
        out
    }
}

/// An angle in −π..π.
fn normalize_radians(angle: f32) -> f32 {
    use std::f32::consts::PI;
    angle - 2.0 * PI * ((angle + PI) / (2.0 * PI)).floor()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upright_body_needs_no_rotation() {
        let roi = Roi::aligned((100.0, 200.0), (100.0, 150.0), 1.25);
        assert!(roi.rotation.abs() < 1e-6);
        assert!((roi.size - 125.0).abs() < 1e-4);
        let (x, y) = roi.to_frame(0.5, 0.0);
        assert!((x - 100.0).abs() < 1e-3 && (y - 137.5).abs() < 1e-3);
    }

    #[test]
    fn a_body_lying_to_the_right_is_turned_upright() {
        // Head to the right of the hips: the crop's "up" points right.
        let roi = Roi::aligned((100.0, 100.0), (150.0, 100.0), 1.0);
        let (x, y) = roi.to_frame(0.5, 0.0);
        assert!(
            (x - 150.0).abs() < 1e-3 && (y - 100.0).abs() < 1e-3,
            "{x} {y}"
        );
    }
}
