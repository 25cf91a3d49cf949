/**
 * Small-sample statistics for the benches: mean, sample standard deviation
 * and a Student-t 95 % confidence interval of a mean. Pure functions; NaN
 * where a figure cannot be computed (too few samples).
 */

export const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Sample standard deviation (n − 1 in the denominator); NaN below 2 samples. */
export function stddev(xs: number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

// Two-sided 95 % quantiles of Student's t for 1…30 degrees of freedom (any
// statistics table); beyond 30 the normal 1.96 is within 4 % of the truth.
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101,
  2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Half-width of the 95 % confidence interval of the mean of `xs` (t · s / √n); NaN below 2 samples. */
export function ci95(xs: number[]): number {
  if (xs.length < 2) return NaN;
  const t = T95[xs.length - 2] ?? 1.96;
  return (t * stddev(xs)) / Math.sqrt(xs.length);
}
