// Types for the parts of logic-solver (MiniSat compiled to JS) the resolver uses.
declare module 'logic-solver' {
  namespace Logic {
    type Term = string;
    interface Formula {
      readonly __formula: true;
    }
    interface Bits {
      readonly bits: Array<Formula | Term>;
    }
    class Solver {
      require(...f: Array<Formula | Term | Array<Formula | Term>>): void;
      forbid(...f: Array<Formula | Term | Array<Formula | Term>>): void;
      solve(): Solution | null;
      solveAssuming(f: Formula | Term): Solution | null;
    }
    interface Solution {
      getTrueVars(): string[];
      evaluate(f: Formula | Term): boolean;
      getWeightedSum(terms: Array<Formula | Term>, weights: number[] | number): number;
    }
    function or(...f: Array<Formula | Term | Array<Formula | Term>>): Formula;
    function and(...f: Array<Formula | Term | Array<Formula | Term>>): Formula;
    function not(f: Formula | Term): Formula | Term;
    function weightedSum(terms: Array<Formula | Term>, weights: number[] | number): Bits;
    function constantBits(n: number): Bits;
    function lessThanOrEqual(a: Bits, b: Bits): Formula;
    function disablingAssertions<T>(f: () => T): T;
  }
  export = Logic;
}
