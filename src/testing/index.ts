export { expectParity, type ExpectParityOptions } from './expect-parity.js';
