//! Frames of an IVF file (the simple container `ffmpeg -c:v libvpx -f ivf` writes).

/// The frames, in order; an error for anything that is not an IVF file with frames.
pub fn frames(file: &[u8]) -> Result<Vec<bytes::Bytes>, String> {
    if file.len() < 32 || &file[..4] != b"DKIF" {
        return Err("not an IVF file".into());
    }
    let header_len = usize::from(u16::from_le_bytes([file[6], file[7]]));
    let mut at = header_len;
    let mut frames = Vec::new();
    while at + 12 <= file.len() {
        let size = u32::from_le_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]) as usize;
        let start = at + 12;
        let Some(frame) = file.get(start..start + size) else { return Err("a frame runs past the end".into()) };
        frames.push(bytes::Bytes::copy_from_slice(frame));
        at = start + size;
    }
    if frames.is_empty() {
        return Err("the IVF file has no frames".into());
    }
    Ok(frames)
}
