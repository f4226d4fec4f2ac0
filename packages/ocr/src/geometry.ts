export type Point = [x: number, y: number];
/** Four corners: top-left, top-right, bottom-right, bottom-left once ordered. */
export type Quad = [Point, Point, Point, Point];
