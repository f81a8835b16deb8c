import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SlimmingStepEvent } from '../events';
import { StartSlimmingInput } from '../../schema/inputs';
import { Candidate, Job, ProposalScore, SlimmingStep, SlimmingTrajectory, Supernet, TrajectoryPick } from '../../schema/types';
import {
  SlimmingTrajectory as SlimmingTrajectoryEntity,
  type SlimmingStep as SlimmingStepEntity,
  type SlimmingTrajectory as TrajectoryEntity,
  type TrajectoryPick as TrajectoryPickEntity,
} from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';
import { uuid } from '../validation';

@Resolver(() => SlimmingTrajectory)
export class TrajectoryResolver {
  @Access('READ')
  @Query(() => SlimmingTrajectory)
  trajectory(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.slimming.getTrajectory(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => Job, { description: 'Creates a trajectory and queues the SLIM job that walks the supernet down greedily.' })
  startSlimming(@Arg('input', () => StartSlimmingInput) input: StartSlimmingInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.slimming.start(caller, input);
  }

  @FieldResolver(() => [SlimmingStep], { description: 'In greedy order; step 0 is the widest config.' })
  steps(@Root() trajectory: TrajectoryEntity, @Ctx() { services }: GraphQLContext) {
    return services.slimming.steps(trajectory.id);
  }

  @FieldResolver(() => [Candidate], {
    description: 'The candidates of picks, each once (a step that crosses two targets picks one configuration for both), largest target first.',
  })
  candidates(@Root() trajectory: TrajectoryEntity, @Ctx() { services }: GraphQLContext) {
    return services.slimming.pickedCandidates(trajectory.id);
  }

  @FieldResolver(() => [TrajectoryPick], {
    description: "One per target crossed, largest target first, including configurations another trajectory found first (whose Candidate.target is that trajectory's).",
  })
  picks(@Root() trajectory: TrajectoryEntity, @Ctx() { services }: GraphQLContext) {
    return services.slimming.picks(trajectory.id);
  }

  @FieldResolver(() => Supernet)
  supernet(@Root() trajectory: TrajectoryEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.supernets.get(caller, trajectory.supernet.id);
  }

  @Access('READ')
  @Subscription(() => SlimmingStep, {
    description: 'One event per greedy step of a trajectory, as it is persisted.',
    topics: 'SLIMMING_PROGRESS',
    topicId: ({ args }) => uuid('trajectoryId', (args as { trajectoryId: string }).trajectoryId),
    // A trajectory of a project the caller cannot see is silent, as one that does not exist is.
    filter: ({ args, context }: { args: { trajectoryId: string }; context: GraphQLContext }) =>
      context.caller.mayRead(SlimmingTrajectoryEntity, args.trajectoryId),
  })
  async slimmingProgress(
    @Root() event: SlimmingStepEvent,
    @Arg('trajectoryId', () => ID) _trajectoryId: string,
    @Ctx() { services }: GraphQLContext,
  ) {
    return services.slimming.step(event.stepId);
  }
}

@Resolver(() => SlimmingStep)
export class SlimmingStepResolver {
  @FieldResolver(() => [ProposalScore], { description: "Every proposal of the step, in unit order; empty for step 0." })
  proposals(@Root() step: SlimmingStepEntity): ProposalScore[] {
    // Steps recorded before screening existed carry neither screening field.
    return step.proposals.map((p) => ({ ...p, screenAccuracy: p.screenAccuracy ?? null, screenedOut: p.screenedOut ?? false }));
  }
}

@Resolver(() => TrajectoryPick)
export class TrajectoryPickResolver {
  @FieldResolver(() => Candidate)
  candidate(@Root() pick: TrajectoryPickEntity) {
    return pick.candidate;
  }
}
