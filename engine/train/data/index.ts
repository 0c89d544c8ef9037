// Training data: the built-in tasks and user data (see engine/train/README.md, "Data").
export { DataError, TrainStream, checkBatch, checkPosition } from './task';
export type { Batch, BatchTensor, DataErrorCode, DataPosition, FeedDtype, FeedSpec, Signature, Task, TaskKind } from './task';
export { TASK_NAMES, taskFromSpec } from './spec';
export type { TaskOptions } from './spec';
export { loadMnist, MNIST_TEST_FRACTION } from './mnist';
export { SEQUENCE_TASKS, sequenceTask } from './synthetic';
export { BYTE_OFFSET, BYTE_VOCAB, textTask } from './text';
export { DATA_FORMATS, userDataTask } from './user';
