/**
 * Latency samples (u64 little-endian nanoseconds, one file per subscriber
 * and phase, as every client writes them) into an HDR histogram, and the
 * percentiles the report shows.
 */
import fs from 'node:fs';
import * as hdr from 'hdr-histogram-js';

export interface Latency {
  samples: number;
  p50Micros: number;
  p99Micros: number;
  p999Micros: number;
  maxMicros: number;
}

/** One histogram over every file that exists (a sink that got nothing in the phase wrote none). */
export function latencyFromFiles(files: string[]): Latency | null {
  // Nanoseconds from 1 ns to an hour, 3 significant digits.
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600e9, numberOfSignificantValueDigits: 3 });
  try {
    for (const file of files) {
      if (!fs.existsSync(file)) continue;
      const bytes = fs.readFileSync(file);
      for (let at = 0; at + 8 <= bytes.length; at += 8) {
        const ns = bytes.readUInt32LE(at) + bytes.readUInt32LE(at + 4) * 2 ** 32;
        histogram.recordValue(Math.min(Math.max(ns, 1), 3_600e9));
      }
    }
    if (histogram.totalCount === 0) return null;
    const micros = (percentile: number): number => Math.round(histogram.getValueAtPercentile(percentile) / 100) / 10;
    return { samples: histogram.totalCount, p50Micros: micros(50), p99Micros: micros(99), p999Micros: micros(99.9), maxMicros: Math.round(histogram.maxValue / 100) / 10 };
  } finally {
    histogram.destroy();
  }
}
