//! A video frame or photo as the models see it: packed 8-bit RGB.

/// Packed RGB24 pixels, row by row, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct RgbFrame<'a> {
    pub width: usize,
    pub height: usize,
    pub data: &'a [u8],
}

impl<'a> RgbFrame<'a> {
    /// `None` when `data` does not hold `width × height` pixels.
    pub fn new(width: usize, height: usize, data: &'a [u8]) -> Option<Self> {
        (data.len() == width * height * 3 && width > 0 && height > 0).then_some(Self {
            width,
            height,
            data,
        })
    }

    /// The colour at (x, y) in pixel coordinates (pixel centres at +0.5),
    /// interpolated between the four nearest pixels; black outside the frame.
    pub(crate) fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let (fx, fy) = (x - 0.5, y - 0.5);
        let (x0, y0) = (fx.floor(), fy.floor());
        let (tx, ty) = (fx - x0, fy - y0);
        let mut out = [0.0f32; 3];
        for (dy, wy) in [(0, 1.0 - ty), (1, ty)] {
            for (dx, wx) in [(0, 1.0 - tx), (1, tx)] {
                let weight = wx * wy;
                if weight == 0.0 {
                    continue;
                }
                if let Some(pixel) = self.pixel(x0 as i64 + dx, y0 as i64 + dy) {
                    for (channel, value) in out.iter_mut().zip(pixel) {
                        *channel += weight * f32::from(*value);
                    }
                }
            }
        }
        out
    }

    fn pixel(&self, x: i64, y: i64) -> Option<&[u8]> {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return None;
        }
        let at = (y as usize * self.width + x as usize) * 3;
        self.data.get(at..at + 3)
    }
}
