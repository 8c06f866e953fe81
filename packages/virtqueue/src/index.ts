export const Y = 2;
