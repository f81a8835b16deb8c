import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import {
  ARCHITECTURE_NAMES,
  architectureInfo,
  parseArchitecture,
  parseChannelList,
  profile,
  defaultChannels,
} from '../../autoslim';
import { CostConvention } from '../../schema/enums';
import { CreateSearchSpaceInput } from '../../schema/inputs';
import { Architecture, Profile, SearchSpace } from '../../schema/types';
import { badInput } from '../errors';
import { checked } from '../services/autoslim-input';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';

@Resolver(() => SearchSpace)
export class SearchSpaceResolver {
  @Access('READ')
  @Query(() => [SearchSpace])
  searchSpaces(@Arg('projectId', () => ID, { nullable: true }) projectId: string | null, @Ctx() { services, caller }: GraphQLContext) {
    return services.searchSpaces.list(caller, projectId);
  }

  @Access('READ')
  @Query(() => SearchSpace)
  searchSpace(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.searchSpaces.get(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => SearchSpace, { description: 'Derives the channel-unit table; see searchSpace { units }.' })
  createSearchSpace(@Arg('input', () => CreateSearchSpaceInput) input: CreateSearchSpaceInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.searchSpaces.create(caller, input);
  }

  @Access('READ')
  @Query(() => [Architecture])
  architectures() {
    return ARCHITECTURE_NAMES.map(architectureInfo);
  }

  @Access('READ')
  @Query(() => Profile, { description: 'MACs and params of a channel list (default: the 1.0x list), per layer too.' })
  profile(
    @Arg('architecture', () => String) architecture: string,
    @Arg('channels', () => [Int], { nullable: true }) channels: number[] | null,
    @Arg('inputSize', () => Int, { nullable: true }) inputSize: number | null,
    @Arg('numClasses', () => Int, { nullable: true }) numClasses: number | null,
    @Arg('convention', () => CostConvention, { defaultValue: CostConvention.REFERENCE }) convention: CostConvention,
  ) {
    const arch = checked('', () => parseArchitecture(architecture));
    const info = architectureInfo(arch);
    const options = { inputSize: inputSize ?? info.defaultInputSize, numClasses: numClasses ?? info.defaultNumClasses };
    if (channels && channels.length > 1000) throw badInput('channels', 'must have at most 1000 entries');
    return checked('', () => {
      const list = channels ? parseChannelList(arch, channels, options) : defaultChannels(arch, 1, options);
      return profile(arch, list, options, convention === CostConvention.MMCV ? 'mmcv' : 'reference');
    });
  }
}
