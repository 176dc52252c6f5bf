/**
 * Parsers for numeric command-line options: each names the option in its error, so a bad flag gets
 * one clear line (exit code 2) instead of a NaN deep inside the run.
 */
import { InvalidArgumentError } from 'commander';

export interface NumberRule {
  integer?: boolean;
  /** value must be > 0 */
  positive?: boolean;
  /** value must be >= min */
  min?: number;
}

export function numberOption(rule: NumberRule = {}): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number.`);
    if (rule.integer && !Number.isInteger(n)) throw new InvalidArgumentError(`"${value}" is not a whole number.`);
    if (rule.positive && !(n > 0)) throw new InvalidArgumentError(`must be greater than 0, got ${value}.`);
    if (rule.min !== undefined && n < rule.min)
      throw new InvalidArgumentError(`must be at least ${rule.min}, got ${value}.`);
    return n;
  };
}
