/** Proves the production server keeps ZAB's and the client's invariants over the second half of the CI seed range (a second file, so jest's two workers share the range). */
import { describeSeedHalf } from './lib/seeds';

describe('whole-server simulation (second half)', () => {
  describeSeedHalf(1);
});
